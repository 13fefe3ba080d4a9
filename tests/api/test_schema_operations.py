"""Every operation of the published OpenAPI schema, sent the way the docs' "Try it out" builds it: the path from
the schema with its declared path parameters filled in (each with a real object's code), the required query
parameters, and a body sampled from the schema as Swagger UI samples it (examples, defaults, enums, then a value
of the declared type). The list and create operations once declared a required `code` path parameter they do
not have, so the docs could not send them."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from api.models import Scope
from dispatch import services as dispatch_services
from integration.models import LiveSession
from requests_app import services as requests_services
from requests_app.models import Clip, FootageRequest
from tests.registry.factories import CameraFactory
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

pytestmark = pytest.mark.django_db
SAMPLE_UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"  # what Swagger UI fills a uuid with


@pytest.fixture
def codes(client, django_user_model, settings, tmp_path):
    """One object of every kind the API serves by code, visible to a signed-in superuser."""
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    user = django_user_model.objects.create_superuser("docs", password="docs-password-123456")
    camera = CameraFactory(level="integrated", location=Point(-78.6383, 35.7797, srid=4326))
    incident = IncidentFactory()
    requests_services.incident_investigators_set(incident=incident, users=[user])
    request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label="Porch", nonce="n",
                                            state="sent", expires_at=timezone.now() + timedelta(days=5))
    link = requests_services.consent_link(request).replace("http://testserver", "")
    client.post(link + "upload/", {"clips": [SimpleUploadedFile("door.mp4", tiny_mp4())], "keep_days": "90"})
    call, _ = dispatch_services.call_receive(dispatch_id="F-1", call_type="Alarm", priority=2, latitude=35.78,
                                          longitude=-78.64, received_at=timezone.now() - timedelta(minutes=5))
    session = LiveSession.objects.create(analyst=user, camera=camera, incident=incident, reason="Robbery nearby",
                                         ends_by=timezone.now() + timedelta(minutes=30))
    client.force_login(user)
    return {"cameras": camera.code, "incidents": incident.code, "footage-requests": request.code,
            "clips": Clip.objects.get().code, "calls": call.code, "live-sessions": session.code}


def resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def sample(schema: dict, components: dict, typed: dict | None = None):
    """A value for `schema`, as Swagger UI's sampler makes one for a request body or a parameter; `typed` holds
    what a person trying it out types over the sample (the codes of objects that exist)."""
    typed = typed or {}
    schema = resolve(schema, components)
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return next((value for value in schema["enum"] if value is not None), None)
    if "allOf" in schema:
        merged = {}
        for part in schema["allOf"]:
            merged.update(sample(part, components, typed) or {})
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return sample(schema[key][0], components, typed)
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: typed[name] if name in typed else sample(prop, components, typed)
                for name, prop in schema.get("properties", {}).items() if not resolve(prop, components).get("readOnly")}
    if kind == "array":
        return [sample(schema.get("items", {}), components, typed)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return True
    return {"uuid": SAMPLE_UUID, "date-time": timezone.now().isoformat(), "date": timezone.localdate().isoformat(),
            "email": "user@example.com", "uri": "https://example.com/"}.get(schema.get("format"), "string")


def build(path: str, operation: dict, components: dict, codes: dict) -> tuple[str, dict, object, list[str]]:
    """(url, query, body, problems) for one operation, or the problems that keep the docs from sending it."""
    problems, query = [], {}
    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        if where == "path":
            if f"{{{name}}}" not in path:
                problems.append(f"path parameter {name!r} is not in the path")
                continue
            path = path.replace(f"{{{name}}}", str(codes[path.split("/")[3]]))
        elif where == "query" and parameter.get("required"):
            query[name] = sample(parameter.get("schema", {}), components)
    if re.search(r"{\w+}", path):
        problems.append(f"{path} has a placeholder no parameter fills")
    content = operation.get("requestBody", {}).get("content", {})
    typed = {"incident": str(codes["incidents"]), "cameras": [str(codes["cameras"])]}
    body = sample(content["application/json"]["schema"], components, typed) if "application/json" in content else None
    return path, query, body, problems


def response_media_types(operation: dict) -> list[str]:
    """The media types the operation's successful answers declare (the docs offer these in "Try it out"); JSON
    where none is declared (a 204)."""
    declared = {media_type for status, response in operation.get("responses", {}).items() if status.startswith("2")
                for media_type in response.get("content", {})}
    return sorted(declared) or ["application/json"]


def send(client, method: str, url: str, body, **headers):
    return client.generic(method, url, data=json.dumps(body) if body is not None else "",
                          content_type="application/json", **headers)


def test_every_operation_of_the_schema_can_be_sent_as_the_docs_build_it(client, codes, token):
    """Signed in as a superuser; where that is refused (systems' writes), authorised as the docs' "Authorize"
    does with a token holding every scope."""
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token(*Scope.values)}"}
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema.get("components", {})
    sent, problems = [], []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            url, query, body, unsendable = build(path, operation, components, codes)
            problems += [f"{name}: {problem}" for problem in unsendable]
            if unsendable:
                continue
            if query:
                url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
            for accept in response_media_types(operation):  # "Try it out" asks for the declared media type
                response = send(client, method.upper(), url, body, HTTP_ACCEPT=accept)
                if response.status_code == 403:
                    response = send(client, method.upper(), url, body, HTTP_ACCEPT=accept, **bearer)
                sent.append(f"{name} {accept} {response.status_code}")
                if response.status_code in (401, 403, 404, 406) or response.status_code >= 500:
                    problems.append(f"{name} (Accept: {accept}): {response.status_code} {response.content[:200]!r}")

    assert not problems, "\n".join(problems)
    assert len(sent) == sum(len(response_media_types(operation)) for operations in schema["paths"].values()
                            for operation in operations.values()) >= 20, sent


def test_only_the_position_list_declares_the_unit_filter(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    def query_parameters(path, method):
        return [p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "query"]

    assert "unit" in query_parameters("/api/v1/positions/", "get")
    assert query_parameters("/api/v1/positions/", "post") == []
    assert query_parameters("/api/v1/positions/batch/", "post") == []
