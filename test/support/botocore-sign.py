"""Signs requests with botocore, the signer behind boto3 and the AWS CLI, for sigv4.test.ts.

Reads a JSON list of requests on stdin ({method, url, headers: [[name, value]...], body,
presign, expires, service, region, accessKeyId, secret}) and writes the signed requests as
they would go on the wire ({method, url, headers, body}). Header pairs may repeat a name.
"""
import json
import sys

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for r in json.load(sys.stdin):
    request = AWSRequest(method=r["method"], url=r["url"], data=r["body"].encode("utf-8"))
    for name, value in r["headers"]:
        request.headers[name] = value  # HTTPHeaders appends: a repeated name keeps every value
    credentials = Credentials(r["accessKeyId"], r["secret"])
    if r["presign"]:
        SigV4QueryAuth(credentials, r["service"], r["region"], expires=r["expires"]).add_auth(request)
    else:
        SigV4Auth(credentials, r["service"], r["region"]).add_auth(request)
    body = request.body if isinstance(request.body, (bytes, bytearray)) else (request.body or b"")
    if isinstance(body, str):
        body = body.encode("utf-8")
    out.append(
        {
            "method": request.method,
            "url": request.url,
            "headers": [[k, v] for k, v in request.headers.items()],
            "body": body.decode("utf-8"),
        }
    )
json.dump(out, sys.stdout)
