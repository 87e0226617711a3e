// coffer console: progressive niceties only. Every page works without this.
(function () {
  "use strict";
  // Copy buttons on code blocks and the token box.
  function addCopy(target, anchor) {
    if (!navigator.clipboard) return;
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-small copy";
    b.textContent = "Copy";
    b.addEventListener("click", function () {
      var text = target.value !== undefined && target.tagName === "TEXTAREA" ? target.value : target.textContent;
      navigator.clipboard.writeText(text).then(function () {
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = "Copy"; }, 1500);
      });
    });
    anchor.appendChild(b);
  }
  document.querySelectorAll(".snippet").forEach(function (s) {
    var code = s.querySelector("pre code"), head = s.querySelector(".code-head");
    if (code && head) addCopy(code, head);
  });
  var token = document.getElementById("token");
  if (token) {
    token.addEventListener("focus", function () { token.select(); });
    var head = document.querySelector(".token-head");
    if (head) addCopy(token, head);
  }
  // Filters: apply a select as soon as it changes.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { if (sel.form) sel.form.submit(); });
  });
  // Times: show local time in a tooltip.
  document.querySelectorAll("time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) t.title = d.toLocaleString();
  });
  // Danger buttons stay disabled until their confirmation box is ticked.
  document.querySelectorAll("form.action-danger").forEach(function (f) {
    var box = f.querySelector("input[name=confirm]"), btn = f.querySelector("button[type=submit]");
    if (!box || !btn) return;
    var sync = function () { btn.disabled = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });
})();
