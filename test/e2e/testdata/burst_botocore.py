"""A burst of GetAuthorizationToken calls through botocore, the library the
aws CLI is made of, with the retry settings a CI job gives the CLI
(AWS_RETRY_MODE=standard, AWS_MAX_ATTEMPTS=10, read from the environment
exactly as the CLI reads them). Usage: burst_botocore.py ENDPOINT DOMAIN CALLS
THREADS. Prints "burst: ok <calls> <throttled retries>" when every call
succeeded."""
import sys
import threading

import botocore.session

endpoint, domain, calls, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
session = botocore.session.get_session()
client = session.create_client("codeartifact", endpoint_url=endpoint)
assert client.meta.config.retries.get("mode") == "standard", client.meta.config.retries

lock = threading.Lock()
state = {"next": 0, "ok": 0, "retried": 0, "errors": []}


def count_retries(attempts=None, response=None, **_):
    # needs-retry fires after each attempt; a 429 answer is a throttle.
    if response is not None and response[1].get("ResponseMetadata", {}).get("HTTPStatusCode") == 429:
        with lock:
            state["retried"] += 1


client.meta.events.register("needs-retry.codeartifact.GetAuthorizationToken", count_retries)


def worker():
    while True:
        with lock:
            if state["next"] >= calls:
                return
            state["next"] += 1
        try:
            out = client.get_authorization_token(domain=domain)
            assert out["authorizationToken"]
            with lock:
                state["ok"] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                state["errors"].append(repr(e))


ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
if state["errors"]:
    print("burst: %d of %d calls failed; first: %s" % (len(state["errors"]), calls, state["errors"][0]))
    sys.exit(1)
print("burst: ok %d %d" % (state["ok"], state["retried"]))
