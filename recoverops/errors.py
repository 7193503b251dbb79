"""RecoverOps' one exception tree.

    RecoverOpsError
    ├── ConfigurationError        settings or a knowledge file (signatures, policy) is invalid
    ├── InputError                an input cannot be analyzed
    │   ├── InputNotFoundError    the path does not exist or is not a file
    │   ├── EmptyInputError       nothing to analyze
    │   ├── BinaryInputError      the bytes are not text
    │   ├── InputTooLargeError    over the configured size limit
    │   └── NotADelivery          `replay` was given a file that is no webhook payload it sends
    ├── InvalidTransitionError    an incident was asked to move to a status it cannot reach
    ├── InvalidCursorError        a page cursor is not one the store handed out
    ├── NotFoundError             the store holds no such record (e.g. feedback on no incident)
    ├── MalformedPayload          a webhook body is not what its headers announce (serve.webhooks)
    ├── Untrusted                 an SNS message SNS did not provably sign (serve.webhooks.sns)
    ├── CertificateUnavailable    SNS's signing certificate could not be fetched now (the same)
    ├── PatchError                a diff does not parse or apply (diagnosis.patch)
    ├── LlmUnavailable            no usable completion from the LLM server (diagnosis.llm.client)
    ├── InvalidAnswer             the LLM's answer breaks its schema (diagnosis.llm.schema)
    ├── Rejection                 a request the HTTP layer refuses, with its status (serve.errors)
    ├── NoAnswer                  the local champion copy cannot answer: ask MLflow
    ├── DatasetError              a training corpus is not in a known layout (training.datasets)
    ├── ActionError               a remediation action cannot be planned or do what was asked
    │   ├── InvalidActionError    an unknown kind, or parameters the kind refuses
    │   └── ActionStateError      not in its present status (approving an expired action)
    └── PullRequestError          a fix's pull or merge request cannot be opened
        ├── FixNotApplicable      the fix has no patch, or it no longer applies (409)
        ├── DefaultBranchRefused  the branch is the repository's default branch (409)
        ├── ForgeNotConfigured    no repository, forge or token for the incident (422)
        └── ForgeFailed           GitHub, GitLab or the git push answered with an error (502)

Components return results, not exceptions; these are for programming errors and for the edges:
only the CLI maps them to exit codes, only the HTTP layer to status codes.
"""

from __future__ import annotations


class RecoverOpsError(Exception):
    """Root of every error RecoverOps raises on purpose."""


class ConfigurationError(RecoverOpsError):
    """A setting or a knowledge file is invalid; the message names the file and what is wrong."""


class InputError(RecoverOpsError):
    """An input cannot be analyzed."""


class InputNotFoundError(InputError):
    pass


class EmptyInputError(InputError):
    pass


class BinaryInputError(InputError):
    pass


class InputTooLargeError(InputError):
    pass


class InvalidTransitionError(RecoverOpsError):
    """An incident cannot move from its status to the one asked."""


class InvalidCursorError(RecoverOpsError):
    """A page cursor was altered or comes from elsewhere; the HTTP layer answers 400."""


class NotFoundError(RecoverOpsError, LookupError):
    """The store holds no record with that id; the HTTP layer answers 404."""


class ActionError(RecoverOpsError):
    """A remediation action cannot be planned, or cannot do what was asked of it."""


class InvalidActionError(ActionError, ValueError):
    """An unknown action kind, or parameters the kind refuses; the HTTP layer answers 422."""


class ActionStateError(ActionError):
    """The action's status does not allow what was asked; the HTTP layer answers 409."""


class PullRequestError(RecoverOpsError):
    """A fix's pull or merge request cannot be opened; the message says why, never a token."""


class FixNotApplicable(PullRequestError):
    """The fix has no patch, or its patch does not apply to the default branch any more."""


class DefaultBranchRefused(PullRequestError):
    """The branch a fix would be pushed to is the repository's default branch."""


class ForgeNotConfigured(PullRequestError):
    """The incident names no repository RecoverOps can reach, or its forge has no token."""


class ForgeFailed(PullRequestError):
    """GitHub, GitLab or git itself refused or failed; the HTTP layer answers 502."""
