"""The command's exit codes (those of AWS CLI v2) and the failures that carry them."""

from __future__ import annotations

__all__ = [
    "CONFIG_RC",
    "GENERAL_RC",
    "INTERRUPTED_RC",
    "SERVICE_RC",
    "USAGE_RC",
    "Failure",
    "UsageError",
    "credential_failure",
    "exit_code",
    "one_line",
]

USAGE_RC = 252  # bad arguments (usage printed), parameter validation
CONFIG_RC = 253  # no credentials
SERVICE_RC = 254  # the service said no
GENERAL_RC = 255  # anything else: configuration, network, timeouts, output
INTERRUPTED_RC = 130  # Ctrl+C


class Failure(Exception):
    """A command failed in a way the user can fix; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = GENERAL_RC) -> None:
        super().__init__(message)
        self.code = code


class UsageError(Failure):
    """Bad command-line input found after parsing (exit 252)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE_RC)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char.isprintable():
        return char
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def one_line(message: str) -> str:
    """``message`` safe to write to a terminal as one line: characters that are not printable
    (C0 and C1 controls such as newlines, escape and NUL; DEL; line separators; bidirectional
    overrides) written as Python escapes, never raw."""
    if message.isprintable():
        return message
    return "".join(_escape(char) for char in message)


#: What to check, by the credential provider that failed (``{profile}``: the profile in use).
_ADVICE = {
    "custom-process": "Run the credential_process of profile {profile} yourself to see why it "
    "fails, and fix it or the profile",
    "assume-role": "Check the role_arn and source_profile (or credential_source) of profile "
    "{profile}, and that STS can be reached from here (proxy, AWS_ENDPOINT_URL_STS, "
    "sts_regional_endpoints)",
    "assume-role-with-web-identity": "Check the web identity token file and role "
    "(AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN, or web_identity_token_file / role_arn of "
    "profile {profile}), and that STS can be reached from here",
    "sso": "Check sso_account_id, sso_role_name and sso_region of profile {profile}, and that "
    "the IAM Identity Center portal can be reached from here (proxy, AWS_ENDPOINT_URL_SSO)",
    "login": "Check that the AWS sign-in service can be reached from here (proxy, "
    "AWS_ENDPOINT_URL_SIGNIN), or log in again with: aws login --profile {profile}",
    "container-role": "Check AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / "
    "AWS_CONTAINER_CREDENTIALS_FULL_URI and the task's or pod's role",
    "iam-role": "Check the instance profile of this EC2 instance and that instance metadata "
    "can be reached (or set AWS_EC2_METADATA_DISABLED=true when not on EC2)",
}
#: STS's own refusals are service errors (the AWS CLI's ClientError: exit 254).
_STS_PROVIDERS = ("assume-role", "assume-role-with-web-identity")


def credential_failure(error: Exception, profile: str) -> tuple[str, int]:
    """The one line and the exit code for a credential failure, as the AWS CLI v2 chooses the
    code: no credentials at all 253, a refusal by STS 254 (a ``ClientError``), a source that
    failed 255 (botocore's ``CredentialRetrievalError`` and SSO token errors)."""
    from .._errors import CredentialRetrievalError

    text = str(error).rstrip(".")
    if not isinstance(error, CredentialRetrievalError):  # nothing configured anywhere
        return (
            f"{text}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile "
            "(aws configure)",
            CONFIG_RC,
        )
    advice = _ADVICE.get(error.provider)
    if advice is not None and "To log in again, run:" not in text:
        text = f"{text}. {advice.format(profile=repr(profile))}"
    if error.code is not None and error.provider in _STS_PROVIDERS:
        return text, SERVICE_RC
    return text, GENERAL_RC


def exit_code(error: BaseException) -> int:
    """The code a listing exits with for ``error`` (in an audit, 255 beats 254 beats 253)."""
    from .._errors import CloudFrontError, NoCredentialsError

    if isinstance(error, CloudFrontError):
        return SERVICE_RC
    if isinstance(error, NoCredentialsError):
        return credential_failure(error, "")[1]
    return GENERAL_RC
