"""The arrows between apps: a lower app never imports a higher one, not at module level, not inside a function.

A lower app that must tell a higher one something sends a signal it defines (registry/signals.py,
requests_app/signals.py) or calls a hook the higher app registered in its AppConfig.ready
(registry.selectors.owner_access_rule_add). Migrations are checked like any other module: none needs an
exemption.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. An app may import its own layer's modules and anything below, nothing above; two apps on one
# layer are siblings and import neither each other. integration and dispatch both build on requests_app
# (live views and calls for service each open from an incident) and neither uses the other; api serves both.
LAYERS = [
    {"common"},  # shared helpers: imports no app
    {"audit"},  # the ledger every app writes to
    {"accounts"},
    {"addresses"},  # the city's address points and geocoders: no owner's data
    {"registry"},
    {"requests_app"},
    {"integration", "dispatch", "backup", "public_requests"},  # backup: the database, evidence and keys together
    {"invitations"},  # campaigns inviting people to register: counts registrations the registry reports
    {"detections"},  # people and vehicles found in the cases' clips (never faces), and the search over them
    {"agencies"},  # outside agencies: requests, warrants, releases of evidence on top of the cases
    {"api", "concerns"},  # concerns: a neighbour's concern, answered with the cameras' masks (integration)
    {"records"},  # public-records releases: reads the registry and cases, redacts clips
    {"bulletins"},  # bulletins to patrol units: stills from live views (integration), units' positions (dispatch)
    {"connect"},  # wiring: settings, urls, ASGI, Celery; may import anything
]
RANK = {app: rank for rank, layer in enumerate(LAYERS) for app in layer}


def _imported(node: ast.AST) -> list[str]:
    """The absolute module names one node imports: import statements, and import_module("x") / __import__("x")
    with a literal name (a dynamic import is still an import). Relative imports are skipped: every app is a
    top-level package, so they cannot leave it."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [node.module] if node.level == 0 and node.module else []
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    return []


def arrow_violations(source: str, path: str, module: str) -> list[str]:
    """'path:line: app imports higher_app (module)' for each import of an app not below this module's own."""
    own = module.split(".")[0]
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        for name in _imported(node):
            target = name.split(".")[0]
            if target in RANK and target != own and RANK[target] >= RANK[own]:
                found.append(f"{path}:{node.lineno}: {own} imports {target} ({name}), which is not below it")
    return found


def _app_modules():
    for app in RANK:
        for path in sorted((ROOT / app).rglob("*.py")):
            yield path, ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_no_app_imports_one_above_it_or_beside_it():
    violations = []
    scanned = 0
    for path, module in _app_modules():
        scanned += 1
        violations += arrow_violations(path.read_text(), str(path.relative_to(ROOT)), module)
    assert scanned > 100, "the scan found almost no modules: is ROOT right?"
    assert not violations, ("send a signal the lower app defines, or call a hook the higher app registers:\n"
                            + "\n".join(violations))


def test_every_project_app_has_a_layer():
    """A new app must be placed in LAYERS, or its imports would go unchecked."""
    project_apps = {name.split(".")[0] for name in settings.INSTALLED_APPS if (ROOT / name.split(".")[0]).is_dir()}
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench", "scripts"}
    assert project_apps | packages == set(RANK)


def test_an_import_of_a_higher_app_inside_a_function_is_caught():
    source = (
        "from registry.models import Camera\n"
        "from audit.ledger import record\n"
        "\n"
        "def camera_update(*, camera):\n"
        "    from integration.services import camera_changed\n"
        "    camera_changed(camera=camera)\n"
    )
    assert arrow_violations(source, "registry/services.py", "registry.services") == [
        "registry/services.py:5: registry imports integration (integration.services), which is not below it"]


def test_dynamic_sibling_and_module_level_imports_are_caught():
    dynamic = "import importlib\nservices = importlib.import_module('requests_app.services')\n"
    assert arrow_violations(dynamic, "registry/x.py", "registry.x")
    sibling = "def f():\n    import dispatch.selectors\n"
    assert arrow_violations(sibling, "integration/x.py", "integration.x")
    assert arrow_violations("from connect.env import env_int\n", "common/x.py", "common.x")


def test_imports_downward_and_within_an_app_are_allowed():
    source = "from . import models\nfrom .views import portal\nfrom registry.models import Camera\nimport common.mail\n"
    assert arrow_violations(source, "integration/services.py", "integration.services") == []
    assert arrow_violations("from integration import services\n", "connect/urls.py", "connect.urls") == []


def test_the_camera_connector_package_imports_no_part_of_connect():
    """connector/ is what owners install without the server: below every app, it imports none, nor Django."""
    package = ROOT / "connector" / "src" / "connect_connector"
    forbidden = set(RANK) | {"django", "channels", "celery", "tests"}
    found, scanned = [], 0
    for path in sorted(package.rglob("*.py")):
        scanned += 1
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: imports {name}" for name in _imported(node)
                      if name.split(".")[0] in forbidden]
    assert scanned >= 5, "the scan found no connector modules: did connector/ move?"
    assert not found, "\n".join(found)
