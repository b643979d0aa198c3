# The floor of this design: import httpx, attrs and xmltodict, sign one GET by hand, send it,
# parse the page with xmltodict into attrs objects. No validation, no retries, no
# configuration: what cfinval would cost if it were nothing but its three dependencies. Over
# HTTPS it loads the CA bundle (``AWS_CA_BUNDLE``, as the SDKs are given) as httpx loads one.
import datetime
import hashlib
import hmac
import os
import ssl
import sys

import attrs
import httpx
import xmltodict


@attrs.frozen
class Item:
    id: str
    create_time: datetime.datetime
    status: str


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


endpoint, tenant = sys.argv[1], sys.argv[2]
host = endpoint.split("://", 1)[1]
path = f"/2020-05-31/distribution-tenant/{tenant}/invalidation"
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
scope = f"{now[:8]}/us-east-1/cloudfront/aws4_request"
creq = "\n".join(
    [
        "GET",
        path,
        "MaxItems=100",
        f"host:{host}\nx-amz-date:{now}\n",
        "host;x-amz-date",
        hashlib.sha256(b"").hexdigest(),
    ]
)
sts = f"AWS4-HMAC-SHA256\n{now}\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}"
key = ("AWS4" + os.environ["AWS_SECRET_ACCESS_KEY"]).encode()
for part in (now[:8], "us-east-1", "cloudfront", "aws4_request"):
    key = _hmac(key, part)
sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
auth = (
    f"AWS4-HMAC-SHA256 Credential={os.environ['AWS_ACCESS_KEY_ID']}/{scope}, "
    f"SignedHeaders=host;x-amz-date, Signature={sig}"
)
bundle = os.environ.get("AWS_CA_BUNDLE")
verify = ssl.create_default_context(cafile=bundle) if bundle else True
with httpx.Client(verify=verify) as http:
    resp = http.get(
        endpoint + path + "?MaxItems=100", headers={"x-amz-date": now, "authorization": auth}
    )
doc = xmltodict.parse(resp.content, force_list=("InvalidationSummary",))["InvalidationList"]
items = [
    Item(
        s["Id"],
        datetime.datetime.fromisoformat(s["CreateTime"].replace("Z", "+00:00")),
        s["Status"],
    )
    for s in doc["Items"]["InvalidationSummary"]
]
assert resp.status_code == 200, resp.text
assert len(items) == 100
