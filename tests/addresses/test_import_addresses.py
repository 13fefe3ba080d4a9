"""manage.py import_addresses: open-data address files as cities publish them, bad rows by line, atomic replace."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from addresses.models import AddressPoint

pytestmark = pytest.mark.django_db

# Raleigh/Wake County style: the address in parts, postal city and ZIP, coordinates in degrees.
RALEIGH_CSV = """OBJECTID,ADDR_NUM,PREDIR,STNAME,STTYPE,UNIT,POSTAL_CITY,ZIPCODE,LATITUDE,LONGITUDE
1,222,W,HARGETT,ST,,RALEIGH,27601,35.7779,-78.6426
2,1200,,FAYETTEVILLE,ST,,RALEIGH,27603,35.7623,-78.6410
3,,,GLENWOOD,AVE,,RALEIGH,27605,35.7900,-78.6500
4,300,,GLENWOOD,AVE,12B,RALEIGH,27603,not-a-number,-78.6500
5,301,,GLENWOOD,AVE,,RALEIGH,27603,35.7901,-78.6501
"""


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_addresses", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def addresses(city="raleigh") -> list[str]:
    return sorted(AddressPoint.objects.filter(city=city).values_list("address", flat=True))


def test_a_wake_county_style_csv_imports_with_its_columns_detected_and_bad_rows_named_by_line(tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text(RALEIGH_CSV)

    out, err = run(path, "--city", "raleigh", "--max-bad-percent", "50")

    assert addresses() == ["1200 Fayetteville St, Raleigh 27603", "222 W Hargett St, Raleigh 27601",
                           "301 Glenwood Ave, Raleigh 27603"]
    assert "line 4: skipped, it has no house number" in err
    assert "line 5: skipped, its coordinates 'not-a-number', '-78.6500' are not numbers" in err
    assert "3 address points imported for raleigh (2 rows skipped)" in out
    point = AddressPoint.objects.get(address__startswith="222 W Hargett")
    assert (round(point.location.y, 4), round(point.location.x, 4)) == (35.7779, -78.6426)
    assert point.search_text == "222 w hargett st"  # the city and ZIP are not searched


def test_a_charlotte_style_full_address_and_a_nashville_style_geojson(tmp_path):
    csv_path = tmp_path / "charlotte.csv"
    csv_path.write_text("full_address,num_addr,city,zip_code,latitude,longitude\n"
                        "600 E 4TH ST,600,RALEIGH,27601,35.78,-78.63\n")
    run(csv_path, "--city", "charlotte")
    assert addresses("charlotte") == ["600 E 4th St, Raleigh 27601"]

    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-78.64, 35.77]},
                 "properties": {"ADD_FULL": "100 Main Street", "PO_NAME": "Raleigh"}},
                {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[-78.6, 35.7], [-78.61, 35.7]]},
                 "properties": {"ADD_FULL": "5 Wrong Shape Rd"}},
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-78.65, 35.78]},
                 "properties": {"ADD_FULL": "7 Oak Ct"}}]
    geojson = tmp_path / "nashville.geojson"
    # One feature per line, as portals write them: the bad one is reported by its line in the file.
    geojson.write_text('{"type": "FeatureCollection", "features": [\n'
                       + ",\n".join(json.dumps(feature) for feature in features) + "\n]}\n")
    out, err = run(geojson, "--city", "nashville", "--max-bad-percent", "50")
    assert addresses("nashville") == ["100 Main Street, Raleigh", "7 Oak Ct"]
    assert "line 3: skipped, its geometry is not a Point" in err


def test_the_column_mapping_option_names_what_detection_cannot_guess(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("SITUS,NORTHING_DEG,EASTING_DEG\n10 Peace St,35.79,-78.64\n")
    with pytest.raises(CommandError, match="No address column found.*SITUS, NORTHING_DEG, EASTING_DEG"):
        run(path, "--city", "raleigh")
    run(path, "--city", "raleigh", "--columns", "address=SITUS,lat=northing_deg,lng=EASTING_DEG")
    assert addresses() == ["10 Peace St"]
    with pytest.raises(CommandError, match="--columns names 'NOPE' for address, but the file has no such column"):
        run(path, "--city", "raleigh", "--columns", "address=NOPE")


def test_projected_coordinates_are_converted_with_srid(tmp_path):
    # NC State Plane (US feet) of a point downtown, as Wake County's exports give X and Y.
    path = tmp_path / "stateplane.csv"
    path.write_text("ADDRESS,X,Y\n1 E Edenton St,2106027.8,737569.9\n")
    with pytest.raises(CommandError, match="Nothing imported"):  # read as degrees: not a place
        run(path, "--city", "raleigh")
    run(path, "--city", "raleigh", "--srid", "2264")
    point = AddressPoint.objects.get()
    assert abs(point.location.y - 35.78) < 0.01 and abs(point.location.x - (-78.64)) < 0.01


def test_a_reimport_replaces_the_citys_set_and_leaves_other_cities_alone(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("ADDRESS,LAT,LON\n1 Old Rd,35.78,-78.64\n2 Old Rd,35.78,-78.64\n")
    second.write_text("ADDRESS,LAT,LON\n9 New Rd,35.78,-78.64\n")
    run(first, "--city", "raleigh")
    run(first, "--city", "cary")
    run(second, "--city", "raleigh")
    assert addresses() == ["9 New Rd"]
    assert addresses("cary") == ["1 Old Rd", "2 Old Rd"]


@pytest.mark.parametrize(("content", "message"), [
    ("ADDRESS,LAT,LON\n" + "x,1,2\n" * 9 + "1 Good St,35.78,-78.64\n",
     "9 of 10 rows are bad, more than 10%"),
    ('{"type": "FeatureCollection", "features": [', "not valid GeoJSON"),
    ("", "The CSV is empty"),
    ("ADDRESS,LAT,LON\n1 Far Away Rd,40.0,-100.0\n", "none of the 1 rows is a usable address point"),
])
def test_a_fatal_error_imports_nothing_and_keeps_the_earlier_set(tmp_path, content, message):
    good = tmp_path / "good.csv"
    good.write_text("ADDRESS,LAT,LON\n1 Kept Rd,35.78,-78.64\n")
    run(good, "--city", "raleigh")
    bad = tmp_path / ("bad.geojson" if content.startswith("{") else "bad.csv")
    bad.write_text(content)
    with pytest.raises(CommandError, match=message):
        run(bad, "--city", "raleigh")
    assert addresses() == ["1 Kept Rd"]


def test_points_outside_the_service_area_are_skipped_unless_asked(tmp_path):
    path = tmp_path / "county.csv"
    path.write_text("ADDRESS,LAT,LON\n1 Inside St,35.78,-78.64\n2 Durham Rd,35.99,-78.90\n")
    out, err = run(path, "--city", "raleigh", "--max-bad-percent", "60")
    assert addresses() == ["1 Inside St"] and "line 3: skipped, it lies outside the service area" in err
    run(path, "--city", "raleigh", "--anywhere")
    assert addresses() == ["1 Inside St", "2 Durham Rd"]


@pytest.mark.parametrize(("header", "row", "expected"), [
    # Seattle-style parts with a direction after the street type
    ("ADDR_NUM,ADDR_PD,ADDR_SN,ADDR_ST,ADDR_SD,LATITUDE,LONGITUDE", "1501,,4TH,AVE,S,35.78,-78.64", "1501 4th Ave S"),
    # a shapefile export: names cut to ten letters, a unit number
    ("FULLADDRES,UNIT_NUM,POINT_Y,POINT_X", "10 W MARTIN ST,3,35.78,-78.64", "10 W Martin St"),
    # a Socrata export: the point as "(lat, lng)" in a Location column
    ("Address,Location", '5 Oak Ct,"(35.78, -78.64)"', "5 Oak Ct"),
    # well-known text in the_geom
    ("ADDRESS,the_geom", "6 Elm St,POINT (-78.64 35.78)", "6 Elm St"),
])
def test_other_portals_layouts_are_read(tmp_path, header, row, expected):
    path = tmp_path / "portal.csv"
    path.write_text(f"{header}\n{row}\n")
    run(path, "--city", "raleigh")
    point = AddressPoint.objects.get()
    assert point.address == expected
    assert (round(point.location.y, 2), round(point.location.x, 2)) == (35.78, -78.64)
