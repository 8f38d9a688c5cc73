"""Answers for services this cloud does not serve, in each service's own protocol.

Eucalyptus deployments may run auto scaling, CloudWatch, ELB and CloudFormation; this cloud
does not.  A client pointed at such a service (by its ``/services/<Name>`` path, or at ``/``
with that service in its SigV4 credential scope) gets a "not implemented" error its SDK
parses, instead of falling through to Walrus and being refused as a bad S3 signature.
"""

from __future__ import annotations

import json

from server.ids import request_id
from server.protocol.http import Request, Response
from server.protocol.xml import escape

#: The error code and status: 501 says "not implemented" and is not retried by the SDKs.
CODE = "NotImplemented"
STATUS = 501
#: SigV4 names of the AWS services whose protocol is the query protocol or REST-XML (as
#: botocore's service models say): their errors are XML.  Any other service that is not
#: called with the query protocol's ``Action``, a JSON ``X-Amz-Target`` or a JSON body
#: (GET /2015-03-31/functions/ of Lambda, say) speaks REST-JSON.
XML_SERVICES = frozenset({
    "autoscaling", "cloudformation", "cloudsearch", "ec2", "elasticache", "elasticbeanstalk",
    "elasticloadbalancing", "elb", "elbv2", "iam", "importexport", "monitoring", "rds",
    "redshift", "sdb", "ses", "sns", "sqs", "sts", "cloudfront", "route53", "s3",
    "s3-object-lambda", "s3-outposts", "s3express", "properties", "euprop"})


class UnservedService:
    """A service known by name that this cloud does not provide."""

    signing_names: tuple[str, ...] = ()

    def __init__(self, name: str, path: str = ""):
        self.name = name
        self.path = path

    def message(self) -> str:
        """What the error says."""
        return f"The {self.name} service is not available in this cloud"

    async def handle(self, request: Request) -> Response:
        """The error in the request's protocol: CBOR for Smithy RPC v2, JSON for the JSON
        protocols (``X-Amz-Target`` or a JSON body) and for REST-JSON services, the query
        protocol's ``ErrorResponse`` (which REST-XML clients read too) otherwise."""
        rid = request_id()
        headers = [("x-amzn-requestid", rid)]
        ctype = request.header("content-type", "")
        if request.header("smithy-protocol") == "rpc-v2-cbor":
            headers += [("smithy-protocol", "rpc-v2-cbor"), ("x-amzn-errortype", CODE)]
            body = _cbor_map({"__type": CODE, "message": self.message()})
            return Response(STATUS, body, headers, content_type="application/cbor")
        if request.header("x-amz-target") or "json" in ctype or await self._rest_json(request):
            body = json.dumps({"__type": CODE, "message": self.message()}).encode()
            headers.append(("x-amzn-errortype", CODE))
            return Response(STATUS, body, headers,
                            content_type=ctype if "json" in ctype else "application/json")
        text = ('<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
                f"<Code>{CODE}</Code><Message>{escape(self.message())}</Message></Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>")
        return Response(STATUS, text.encode(), headers)

    async def _rest_json(self, request: Request) -> bool:
        """Whether the request is a REST-JSON call: named by its SigV4 scope (not at a
        Eucalyptus query path), for a service that is not XML's, with no ``Action`` in its
        query string and no form body (a query call carries its Action there)."""
        if self.path or self.name.lower() in XML_SERVICES:
            return False
        if "Action=" in request.query_string:
            return False
        if "x-www-form-urlencoded" in request.header("content-type", ""):
            return False
        try:
            body = await request.body()
        except ValueError:  # larger than any query form: a REST upload (Glacier, say)
            return True
        except ConnectionError:  # the client is gone: whatever is answered is not read
            return False
        return b"Action=" not in body


def _cbor_text(text: str) -> bytes:
    """A CBOR text string (major type 3)."""
    data = text.encode()
    n = len(data)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 256:
        head = bytes([0x78, n])
    else:
        head = bytes([0x79]) + n.to_bytes(2, "big")
    return head + data


def _cbor_map(values: dict[str, str]) -> bytes:
    """A small CBOR map of text to text (major type 5): an RPC v2 error document."""
    out = bytes([0xA0 | len(values)])
    for key, value in values.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out
