"""Schemathesis hooks: the one check that matters for usergraph's fuzz run.

GraphQL answers refusals (FORBIDDEN, BAD_USER_INPUT, NOT_FOUND, ...) as errors in a 200
response; those are correct answers to fuzzed input. What must never happen is a 5xx status or
an INTERNAL_SERVER_ERROR error.
"""

import schemathesis


@schemathesis.check
def no_internal_error(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        body = response.json()
    except Exception:
        return None
    items = body if isinstance(body, list) else [body]
    for item in items:
        for error in (item.get("errors") or []) if isinstance(item, dict) else []:
            code = (error.get("extensions") or {}).get("code")
            if code == "INTERNAL_SERVER_ERROR":
                raise AssertionError(f"internal error: {error.get('message')}")
    return None
