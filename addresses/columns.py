"""Which columns of a city's address file hold what. Open-data portals name them differently (Raleigh/Wake County,
Charlotte's master address table, Seattle, Nashville, shapefile exports cut to ten letters); `--columns` names them
when the guess is wrong."""

FIELDS = ("address", "number", "predir", "street", "type", "sufdir", "unit", "city", "zip", "lat", "lng", "geometry")

# Known names per field, most specific first; matched without regard to case, spaces, dashes or underscores.
KNOWN = {
    "address": ["full_address", "fulladdress", "fulladdres", "full_addr", "fulladdr", "add_full", "addr_full",
                "address_full", "site_address", "siteaddress", "siteaddr", "site_addr", "address_text",
                "addresstext", "address", "addr", "street_address", "streetaddress", "location_address"],
    "number": ["add_number", "addr_num", "add_num", "addrnum", "addnum", "address_number", "addressnumber",
               "stnum", "st_num", "street_num", "street_number", "house_num", "housenum", "house_number",
               "num_addr", "number", "hse_num"],
    "predir": ["predir", "pre_dir", "addr_pd", "st_prefix", "stprefix", "prefix_dir", "pre_direction", "dir_pre",
               "add_predir", "stpredir", "prefix"],
    "street": ["street_name", "streetname", "stname", "st_name", "addr_sn", "add_stname", "street"],
    "type": ["street_type", "streettype", "sttype", "st_type", "addr_st", "add_sttype", "st_suffix", "stsuffix",
             "posttype", "post_type", "suffix"],
    "sufdir": ["sufdir", "suf_dir", "addr_sd", "postdir", "post_dir", "st_postdir", "dir_suf", "add_sufdir"],
    "unit": ["unit", "unit_num", "unitnum", "unit_number", "addr_unit", "add_unit", "suite", "unit_no"],
    "city": ["postal_city", "postalcity", "city", "city_name", "cityname", "municipality", "place_name", "po_name",
             "postcomm", "muni", "juris"],
    "zip": ["zip", "zipcode", "zip_code", "zip5", "postal_code", "postalcode", "postcode"],
    "lat": ["latitude", "lat", "point_y", "y_coord", "ycoord", "y"],
    "lng": ["longitude", "lon", "long", "lng", "point_x", "x_coord", "xcoord", "x"],
    "geometry": ["the_geom", "geometry", "geom", "wkt", "shape", "location", "point"],
}


class ColumnError(Exception):
    pass


def folded(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def parse_mapping(option: str) -> dict[str, str]:
    """'address=ADD_FULL,lat=LAT' -> {'address': 'ADD_FULL', 'lat': 'LAT'}."""
    mapping = {}
    for part in filter(None, (piece.strip() for piece in (option or "").split(","))):
        field, sep, column = part.partition("=")
        field = field.strip().lower()
        if not sep or not column.strip():
            raise ColumnError(f"--columns: '{part}' is not field=COLUMN (for example address=FULL_ADDRESS).")
        if field not in FIELDS:
            raise ColumnError(f"--columns: '{field}' is not a field; the fields are {', '.join(FIELDS)}.")
        mapping[field] = column.strip()
    return mapping


def detect(columns: list[str], given: dict[str, str], *, has_geometry: bool) -> dict[str, str]:
    """field -> column name in the file, from `given` first, then the known names. Raises ColumnError when the
    file has no address text or no coordinates, saying which columns it has."""
    by_folded = {}
    for column in columns:
        by_folded.setdefault(folded(column), column)
    found = {}
    for field, column in given.items():
        if folded(column) not in by_folded:
            raise ColumnError(f"--columns names '{column}' for {field}, but the file has no such column. "
                              f"Its columns: {', '.join(columns)}.")
        found[field] = by_folded[folded(column)]
    taken = set(found.values())
    for field in FIELDS:
        if field in found:
            continue
        for name in KNOWN[field]:
            column = by_folded.get(folded(name))
            if column and column not in taken:
                found[field] = column
                taken.add(column)
                break
    if "address" not in found and not {"number", "street"} <= set(found):
        raise ColumnError("No address column found: name it with --columns address=COLUMN, or give the parts with "
                          f"--columns number=COLUMN,street=COLUMN. The file's columns: {', '.join(columns)}.")
    if not has_geometry and not {"lat", "lng"} <= set(found) and "geometry" not in found:
        raise ColumnError("No coordinates found: name them with --columns lat=COLUMN,lng=COLUMN (or x/y with "
                          f"--srid for projected coordinates). The file's columns: {', '.join(columns)}.")
    return found
