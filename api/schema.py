"""OpenAPI additions: the token scheme, and the error answers every operation may give, so that clients (and
schemathesis) know them."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An API token from the admin (API tokens), limited to its scopes."}


ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` says what went wrong; an invalid field is named as a key with its messages.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERRORS = {
    "400": "The request is malformed or a value is invalid (the body names which).",
    "401": "No credentials, an unknown token, a revoked token or an ended session.",
    "403": "The token lacks the scope, or the role lacks the permission.",
    "404": "No such object, or not one you may see.",
    "405": "This method is not allowed here.",
    "406": "Only JSON can be returned.",
    "415": "Send JSON.",
    "429": "Too many requests; the body says which limit.",
}


def drop_path_parameters_not_in_path(result, generator, request, public):
    """A viewset's class-level `extend_schema(parameters=[CODE])` reaches its list and create operations too,
    which have no {code}: the docs then demand a value for it and "Try it out" cannot be used. A path parameter
    belongs only to the paths that contain it."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    parameter for parameter in operation["parameters"]
                    if parameter.get("in") != "path" or f"{{{parameter.get('name')}}}" in path]
    return result


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                if method == "get" and code == "415":
                    continue
                responses.setdefault(code, {"description": description,
                                            "content": {"application/json": {"schema": ref}}})
    return result
