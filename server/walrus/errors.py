"""S3 errors: one class per S3 error code, rendered as S3's ``<Error>`` document."""

from __future__ import annotations

from server.protocol.xml import escape


class S3Error(Exception):
    """An S3 error with its code, HTTP status and extra ``<Error>`` fields."""

    code = "InternalError"
    status = 500
    default = "We encountered an internal error. Please try again."

    def __init__(self, message: str = "", *, headers: list[tuple[str, str]] | None = None,
                 extra: dict[str, str] | None = None, **fields: str):
        super().__init__(message or self.default)
        self.message = message or self.default
        self.fields = {**fields, **(extra or {})}  # extra: field names that are not identifiers
        self.headers = headers or []

    def render(self, resource: str, request_id: str) -> bytes:
        """The ``<Error>`` XML body."""
        extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in self.fields.items())
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>"
                f"{extra}<Resource>{escape(resource)}</Resource>"
                f"<RequestId>{request_id}</RequestId></Error>").encode()


def _e(code: str, status: int, default: str) -> type[S3Error]:
    return type(code, (S3Error,), {"code": code, "status": status, "default": default,
                                   "__doc__": f"S3 error {code}."})


AccessDenied = _e("AccessDenied", 403, "Access Denied")
AccessForbidden = _e("AccessForbidden", 403, "CORSResponse: This CORS request is not allowed.")
AccountProblem = _e("AccountProblem", 403, "There is a problem with your account.")
AuthorizationHeaderMalformed = _e("AuthorizationHeaderMalformed", 400,
                                  "The authorization header is malformed.")
AuthorizationQueryParametersError = _e("AuthorizationQueryParametersError", 400,
                                       "Query-string authentication parameters are invalid.")
BadDigest = _e("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
BucketAlreadyExists = _e("BucketAlreadyExists", 409,
                         "The requested bucket name is not available. The bucket namespace is "
                         "shared by all users of the system. Please select a different name and "
                         "try again.")
BucketAlreadyOwnedByYou = _e("BucketAlreadyOwnedByYou", 409,
                             "Your previous request to create the named bucket succeeded and you "
                             "already own it.")
BucketNotEmpty = _e("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
EntityTooLarge = _e("EntityTooLarge", 400,
                    "Your proposed upload exceeds the maximum allowed size")
EntityTooSmall = _e("EntityTooSmall", 400,
                    "Your proposed upload is smaller than the minimum allowed object size.")
IncompleteBody = _e("IncompleteBody", 400,
                    "You did not provide the number of bytes specified by the Content-Length "
                    "HTTP header")
InvalidAccessKeyId = _e("InvalidAccessKeyId", 403,
                        "The AWS Access Key Id you provided does not exist in our records.")
InvalidArgument = _e("InvalidArgument", 400, "Invalid Argument")
InvalidBucketName = _e("InvalidBucketName", 400, "The specified bucket is not valid.")
InvalidBucketState = _e("InvalidBucketState", 409,
                        "The request is not valid with the current state of the bucket.")
InvalidDigest = _e("InvalidDigest", 400, "The Content-MD5 you specified is not valid.")
InvalidLocationConstraint = _e("InvalidLocationConstraint", 400,
                               "The specified location-constraint is not valid")
InvalidPart = _e("InvalidPart", 400,
                 "One or more of the specified parts could not be found. The part may not have "
                 "been uploaded, or the specified entity tag may not match the part's entity tag.")
InvalidPartOrder = _e("InvalidPartOrder", 400,
                      "The list of parts was not in ascending order. The parts list must be "
                      "specified in order by part number.")
InvalidRange = _e("InvalidRange", 416, "The requested range is not satisfiable")
InvalidRequest = _e("InvalidRequest", 400, "Invalid Request")
InvalidURI = _e("InvalidURI", 400, "Couldn't parse the specified URI.")
InvalidToken = _e("InvalidToken", 400, "The provided token is malformed or otherwise invalid.")
ExpiredToken = _e("ExpiredToken", 400, "The provided token has expired.")
InvalidTag = _e("InvalidTag", 400, "The tag provided was not a valid tag.")
InvalidStorageClass = _e("InvalidStorageClass", 400,
                         "The storage class you specified is not valid")
KeyTooLongError = _e("KeyTooLongError", 400, "Your key is too long")
MalformedACLError = _e("MalformedACLError", 400,
                       "The XML you provided was not well-formed or did not validate against "
                       "our published schema")
MalformedPolicy = _e("MalformedPolicy", 400, "Policies must be valid JSON")
MalformedPOSTRequest = _e("MalformedPOSTRequest", 400,
                          "The body of your POST request is not well-formed "
                          "multipart/form-data.")
InvalidPolicyDocument = _e("InvalidPolicyDocument", 400,
                           "The content of the form does not meet the conditions specified "
                           "in the policy document.")
MalformedXML = _e("MalformedXML", 400,
                  "The XML you provided was not well-formed or did not validate against our "
                  "published schema")
MaxMessageLengthExceeded = _e("MaxMessageLengthExceeded", 400,
                              "Your request was too big.")
MetadataTooLarge = _e("MetadataTooLarge", 400,
                      "Your metadata headers exceed the maximum allowed metadata size.")
MethodNotAllowed = _e("MethodNotAllowed", 405,
                      "The specified method is not allowed against this resource.")
MissingContentLength = _e("MissingContentLength", 411,
                          "You must provide the Content-Length HTTP header.")
MissingSecurityHeader = _e("MissingSecurityHeader", 400,
                           "Your request is missing a required header.")
NoSuchBucket = _e("NoSuchBucket", 404, "The specified bucket does not exist")
NoSuchBucketPolicy = _e("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
NoSuchCORSConfiguration = _e("NoSuchCORSConfiguration", 404,
                             "The CORS configuration does not exist")
NoSuchKey = _e("NoSuchKey", 404, "The specified key does not exist.")
NoSuchLifecycleConfiguration = _e("NoSuchLifecycleConfiguration", 404,
                                  "The lifecycle configuration does not exist")
NoSuchTagSet = _e("NoSuchTagSet", 404, "The TagSet does not exist")
NoSuchUpload = _e("NoSuchUpload", 404,
                  "The specified upload does not exist. The upload ID may be invalid, or the "
                  "upload may have been aborted or completed.")
NoSuchVersion = _e("NoSuchVersion", 404,
                   "The specified version does not exist.")
NotImplemented_ = type("NotImplemented", (S3Error,), {
    "code": "NotImplemented", "status": 501,
    "default": "A header you provided implies functionality that is not implemented",
    "__doc__": "S3 error NotImplemented."})
NotModified = _e("NotModified", 304, "Not Modified")
PreconditionFailed = _e("PreconditionFailed", 412,
                        "At least one of the pre-conditions you specified did not hold")
RequestTimeTooSkewed = _e("RequestTimeTooSkewed", 403,
                          "The difference between the request time and the current time is too "
                          "large.")
SignatureDoesNotMatch = _e("SignatureDoesNotMatch", 403,
                           "The request signature we calculated does not match the signature "
                           "you provided. Check your key and signing method.")
TooManyBuckets = _e("TooManyBuckets", 400,
                    "You have attempted to create more buckets than allowed")
UnresolvableGrantByEmailAddress = _e("UnresolvableGrantByEmailAddress", 400,
                                     "The e-mail address you provided does not match any "
                                     "account on record.")
XAmzContentSHA256Mismatch = _e("XAmzContentSHA256Mismatch", 400,
                               "The provided 'x-amz-content-sha256' header does not match what "
                               "was computed.")
InvalidChunkSizeError = _e("InvalidChunkSizeError", 403,
                           "Only the last chunk is allowed to have a size less than 8192 bytes")
BadRequest = _e("BadRequest", 400, "Bad Request")
InvalidObjectState = _e("InvalidObjectState", 403,
                        "The operation is not valid for the current state of the object.")
OwnershipControlsNotFoundError = _e("OwnershipControlsNotFoundError", 404,
                                    "The bucket ownership controls were not found")
AccessControlListNotSupported = _e("AccessControlListNotSupported", 400,
                                   "The bucket does not allow ACLs")
InvalidBucketAclWithObjectOwnership = _e("InvalidBucketAclWithObjectOwnership", 400,
                                         "Bucket cannot have ACLs set with ObjectOwnership's "
                                         "BucketOwnerEnforced setting")
NoSuchWebsiteConfiguration = _e("NoSuchWebsiteConfiguration", 404,
                                "The specified bucket does not have a website configuration")
InvalidTargetBucketForLogging = _e("InvalidTargetBucketForLogging", 400,
                                   "The target bucket for logging is not valid")
ServerSideEncryptionConfigurationNotFoundError = _e(
    "ServerSideEncryptionConfigurationNotFoundError", 404,
    "The server side encryption configuration was not found")
NoSuchPublicAccessBlockConfiguration = _e("NoSuchPublicAccessBlockConfiguration", 404,
                                          "The public access block configuration was not "
                                          "found")
ObjectLockConfigurationNotFoundError = _e("ObjectLockConfigurationNotFoundError", 404,
                                          "Object Lock configuration does not exist for this "
                                          "bucket")
ReplicationConfigurationNotFoundError = _e("ReplicationConfigurationNotFoundError", 404,
                                           "The replication configuration was not found")
InvalidRetentionPeriod = _e("InvalidRetentionPeriod", 400,
                            "Default retention period must be a positive integer value.")
NoSuchObjectLockConfiguration = _e("NoSuchObjectLockConfiguration", 404,
                                   "The specified object does not have a ObjectLock "
                                   "configuration")
