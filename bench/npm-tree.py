#!/usr/bin/env python3
"""Publish a 200-package dependency tree to an npm registry through its publish API, and write a
consumer project that depends on it (for `npm install` timings, coffer and Verdaccio alike).

  tree-000 … tree-199   one version each (1.0.0), a ~2 KB tarball; package i depends on
                        tree-(2i+1) and tree-(2i+2) when they exist (a binary tree: 200 packages)
  consumer/             package.json depending on tree-000 (so one install pulls all 200)

usage: npm-tree.py URL TOKEN OUTDIR
Packages already in the registry are skipped."""
import base64, gzip, hashlib, io, json, os, sys, tarfile, urllib.error, urllib.request

N = 200


def request(method, url, token, body=None):
    headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers.update({"Content-Type": "application/json", "npm-command": "publish"})
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def tgz(files):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for name, data in files.items():
                info = tarfile.TarInfo("package/" + name)
                info.size, info.mode, info.mtime = len(data), 0o644, 499162500
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main():
    url, token, out = sys.argv[1].rstrip("/") + "/", sys.argv[2], sys.argv[3]
    for i in range(N):
        name = f"tree-{i:03d}"
        if request("GET", url + name, token)[0] == 200:
            continue
        deps = {f"tree-{j:03d}": "^1.0.0" for j in (2 * i + 1, 2 * i + 2) if j < N}
        man = {"name": name, "version": "1.0.0", "description": f"node {i} of the tree", "main": "index.js",
               "license": "MIT", "dependencies": deps, "_id": f"{name}@1.0.0"}
        tb = tgz({"package.json": json.dumps(man).encode(),
                  "index.js": (f"module.exports = {i};\n" + "// padding\n" * 180).encode()})
        fname = f"{name}-1.0.0.tgz"
        man["dist"] = {"integrity": "sha512-" + base64.b64encode(hashlib.sha512(tb).digest()).decode(),
                       "shasum": hashlib.sha1(tb).hexdigest(), "tarball": f"{url}{name}/-/{fname}"}
        body = {"_id": name, "name": name, "description": man["description"], "dist-tags": {"latest": "1.0.0"},
                "versions": {"1.0.0": man}, "access": None,
                "_attachments": {fname: {"content_type": "application/octet-stream",
                                         "data": base64.b64encode(tb).decode(), "length": len(tb)}}}
        st, resp = request("PUT", url + name, token, body)
        if st not in (200, 201):
            sys.exit(f"publish {name} failed: {st} {resp[:300]!r}")
    os.makedirs(os.path.join(out, "consumer"), exist_ok=True)
    with open(os.path.join(out, "consumer", "package.json"), "w") as f:
        json.dump({"name": "tree-consumer", "version": "1.0.0", "private": True,
                   "dependencies": {"tree-000": "^1.0.0"}}, f)


if __name__ == "__main__":
    main()
