"""Streets under every map: OpenStreetMap's tiles with their attribution by default, a city's own tile or WMTS
server, or none; the Content-Security-Policy allows exactly the tile server in use."""

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from connect.env import OSM_ATTRIBUTION, OSM_TILES, parse_map_tiles, tile_origin


def test_openstreetmap_by_default_always_with_its_attribution():
    assert parse_map_tiles("CONNECT_MAP_TILES", "", "") == (OSM_TILES, OSM_ATTRIBUTION)
    tiles, attribution = parse_map_tiles("CONNECT_MAP_TILES", "", "City of Raleigh")
    assert "OpenStreetMap</a> contributors" in attribution and attribution.endswith("City of Raleigh")


def test_a_citys_own_tiles_and_wmts():
    assert parse_map_tiles("CONNECT_MAP_TILES", "https://gis.example.gov/{z}/{x}/{y}.png", "City GIS") == (
        "https://gis.example.gov/{z}/{x}/{y}.png", "City GIS")
    wmts = "https://gis.example.gov/wmts/streets/default/GoogleMapsCompatible/{TileMatrix}/{TileRow}/{TileCol}.png"
    assert parse_map_tiles("CONNECT_MAP_TILES", wmts, "")[0] == (
        "https://gis.example.gov/wmts/streets/default/GoogleMapsCompatible/{z}/{y}/{x}.png")
    assert parse_map_tiles("CONNECT_MAP_TILES", "OFF", "ignored") == ("", "")


@pytest.mark.parametrize("junk", ["tiles.example.gov/{z}/{x}/{y}.png", "https://tiles.example.gov/map.png",
                                  "ftp://tiles.example.gov/{z}/{x}/{y}.png", "none"])
def test_junk_is_refused_naming_the_variable(junk):
    with pytest.raises(ImproperlyConfigured, match="CONNECT_MAP_TILES must be 'off' or an http"):
        parse_map_tiles("CONNECT_MAP_TILES", junk, "")


def test_subdomains_are_one_wildcard_source():
    assert tile_origin("https://{s}.tiles.example.gov/{z}/{x}/{y}.png") == ["https://*.tiles.example.gov"]
    assert tile_origin("") == []


def _image_sources(tiles: str | None) -> list[str]:
    env = {"CONNECT_MODE": "demo", **({"CONNECT_MAP_TILES": tiles} if tiles is not None else {})}
    code = ("import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))")
    result = subprocess.run([sys.executable, "-c", code], env={**_base_env(), **env}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _base_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "CONNECT_MAP_TILES"}


def test_the_policy_allows_exactly_the_tile_server_in_use():
    assert _image_sources(None) == ["'self'", "data:", "blob:", "https://tile.openstreetmap.org"]
    assert _image_sources("https://gis.example.gov/{z}/{x}/{y}.png") == [
        "'self'", "data:", "blob:", "https://gis.example.gov"]
    assert _image_sources("off") == ["'self'", "data:", "blob:"]
