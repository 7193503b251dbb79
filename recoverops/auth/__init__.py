"""Who is asking, and what they may do: bearer tokens (JWT) and the roles they carry.

    roles.py    viewer < operator < admin, and the principal a request acts as
    local.py    tokens `recoverops token create` signs with RECOVEROPS_AUTH_SECRET (HS256)
    jwks.py     an OIDC issuer's signing keys, fetched, cached and refreshed by `kid`
    verify.py   `Authenticator`: a token in, a principal out (or why not)

The HTTP layer decides which role each route needs (`recoverops.serve.access`).
"""

from recoverops.auth.roles import Principal, Role
from recoverops.auth.verify import Authenticator, AuthMode, configuration_problem

__all__ = ["AuthMode", "Authenticator", "Principal", "Role", "configuration_problem"]
