"""The seed's generic flow with boto3: every step asserts what it got.

usage: seed_boto3.py ENDPOINT CREDENTIALS_FILE WORKDIR
"""
import hashlib
import io
import sys
import tarfile

import boto3
import botocore.exceptions

endpoint, creds, work = sys.argv[1:4]
session = boto3.session.Session(profile_name="coffer", region_name="us-east-1")
ca = session.client("codeartifact", endpoint_url=endpoint)


def expect_error(code, fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{fn.__name__}: want {code}, got {got}: {e}"
        return e
    raise AssertionError(f"{fn.__name__} succeeded; want {code}")


message = b"boto3 says hello\n"
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as tf:
    info = tarfile.TarInfo("hello.txt")
    info.size = len(message)
    tf.addfile(info, io.BytesIO(message))
asset = buf.getvalue()
sha256 = hashlib.sha256(asset).hexdigest()

dom = ca.create_domain(domain="boto-domain")["domain"]
assert dom["name"] == "boto-domain" and dom["status"] == "Active", dom
owner = dom["owner"]
ca.create_repository(domain="boto-domain", repository="boto-store")
ca.associate_external_connection(domain="boto-domain", repository="boto-store", externalConnection="public:npmjs")
repo = ca.create_repository(domain="boto-domain", repository="boto-repo", upstreams=[{"repositoryName": "boto-store"}])["repository"]
assert repo["upstreams"] == [{"repositoryName": "boto-store"}], repo
tok = ca.get_authorization_token(domain="boto-domain", durationSeconds=900)
assert len(tok["authorizationToken"]) > 40 and tok["expiration"].tzinfo is not None, tok
expect_error("ValidationException", ca.get_authorization_token, domain="boto-domain", durationSeconds=100)
ep = ca.get_repository_endpoint(domain="boto-domain", repository="boto-repo", format="npm")["repositoryEndpoint"]
assert ep == f"{endpoint}/npm/d/boto-domain-{owner}/boto-repo/", ep

coords = dict(domain="boto-domain", repository="boto-repo", format="generic", namespace="boto", package="hello")
expect_error("ValidationException", ca.publish_package_version, packageVersion="1.0.0", assetName="hello.tar.gz",
             assetContent=asset, assetSHA256="f" * 64, **coords)
res = ca.publish_package_version(packageVersion="1.0.0", assetName="hello.tar.gz", assetContent=asset, assetSHA256=sha256, **coords)
assert res["status"] == "Published" and res["asset"]["size"] == len(asset), res
assert res["asset"]["hashes"] == {
    "MD5": hashlib.md5(asset).hexdigest(), "SHA-1": hashlib.sha1(asset).hexdigest(),
    "SHA-256": sha256, "SHA-512": hashlib.sha512(asset).hexdigest()}, res

versions = ca.list_package_versions(**coords)
assert [v["version"] for v in versions["versions"]] == ["1.0.0"], versions
assets = ca.list_package_version_assets(packageVersion="1.0.0", **coords)
assert [a["name"] for a in assets["assets"]] == ["hello.tar.gz"], assets
got = ca.get_package_version_asset(packageVersion="1.0.0", asset="hello.tar.gz", **coords)
body = got["asset"].read()
assert body == asset, "downloaded bytes differ"
assert got["assetName"] == "hello.tar.gz" and got["packageVersion"] == "1.0.0" and got["packageVersionRevision"] == assets["versionRevision"], got
with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tf:
    assert tf.extractfile("hello.txt").read() == message

# Status machine through the API.
upd = ca.update_package_versions_status(versions=["1.0.0"], targetStatus="Archived", **coords)
assert upd["successfulVersions"]["1.0.0"]["status"] == "Archived", upd
expect_error("ConflictException", ca.get_package_version_asset, packageVersion="1.0.0", asset="hello.tar.gz", **coords)
bad = ca.update_package_versions_status(versions=["1.0.0"], expectedStatus="Published", targetStatus="Unlisted", **coords)
assert bad["failedVersions"]["1.0.0"]["errorCode"] == "MISMATCHED_STATUS", bad
disp = ca.dispose_package_versions(versions=["1.0.0"], **coords)
assert disp["successfulVersions"]["1.0.0"]["status"] == "Disposed", disp
assert ca.list_package_version_assets(packageVersion="1.0.0", **coords)["assets"] == []
dele = ca.delete_package_versions(versions=["1.0.0", "9.9.9"], **coords)
assert dele["successfulVersions"]["1.0.0"]["status"] == "Deleted" and dele["failedVersions"]["9.9.9"]["errorCode"] == "NOT_FOUND", dele

# Paginators work over our nextToken.
for i in range(5):
    ca.create_repository(domain="boto-domain", repository=f"page-{i}")
names = [r["name"] for page in ca.get_paginator("list_repositories_in_domain").paginate(domain="boto-domain", PaginationConfig={"PageSize": 2}) for r in page["repositories"]]
assert names == sorted(names) and len(names) == 7, names

arn = dom["arn"]
ca.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "blue"}])
assert ca.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "blue"}]
ca.untag_resource(resourceArn=arn, tagKeys=["team"])
assert ca.list_tags_for_resource(resourceArn=arn)["tags"] == []
print("boto3 seed flow: ok")
