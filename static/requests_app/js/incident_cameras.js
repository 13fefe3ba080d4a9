// Choosing cameras for an incident (admin/requests_app/incident/cameras.html): a map beside the table with the
// incident, its search radius and each listed camera with its view cone. The table's checkboxes stay the one
// source of truth: a click on a marker (or Enter or Space on it) toggles its box, and each box's state shows on
// its marker. Cameras already asked have no box, and their markers cannot be ticked.
(function () {
  "use strict";
  function init() {
    var data = JSON.parse(document.getElementById("cameras-map-data").textContent);
    var panel = document.getElementById("cameras-map-panel"), el = document.getElementById("cameras-map");
    var words = data.words;

    // Shown only now: without the script there is no empty box, only the table.
    panel.hidden = false;
    document.getElementById("cameras-layout").classList.add("has-map");

    var centre = L.latLng(data.incident.lat, data.incident.lng);
    // maxZoom is set here because with no tile layer (offline, tests) Leaflet would have none.
    var map = L.map(el, { maxZoom: 19, minZoom: 3, attributionControl: !!data.tiles });
    map.fitBounds(centre.toBounds(data.incident.radius * 2), { padding: [8, 8] });
    connectBaseMap(map, data);
    L.circle(centre, { radius: data.incident.radius, color: "#b3261e", weight: 2, fillOpacity: 0.04,
                       interactive: false, className: "incident-radius" }).addTo(map);

    function box(code) { return document.getElementById("cam-" + code); }

    function coneStyle(camera, ticked) {
      if (camera.requested) return { color: "#6b6b6b", weight: 1, dashArray: "3 3", fillOpacity: 0.06 };
      return ticked ? { color: "#1f5f99", weight: 2, dashArray: null, fillOpacity: 0.28 }
                    : { color: "#1f5f99", weight: 1, dashArray: "3 3", fillOpacity: 0.06 };
    }

    function label(camera) {
      return [camera.label, camera.covers ? words.facesSpot : "", camera.requested ? words.asked : "",
              camera.overwritten ? words.overwritten : ""].filter(Boolean).join(", ");
    }

    var shown = {};  // code -> {camera, marker, cone}

    // What a box's state looks like on the map: the marker filled or hollow, its cone strong or faint.
    function show(code) {
      var item = shown[code], input = box(code), ticked = !!(input && input.checked);
      var icon = item.marker.getElement();
      icon.classList.toggle("is-ticked", ticked);
      if (!item.camera.requested) icon.setAttribute("aria-pressed", String(ticked));
      item.cone.setStyle(coneStyle(item.camera, ticked));
    }

    function toggle(code) {
      var input = box(code);
      if (!input || input.disabled) return;  // asked already: nothing to tick
      input.checked = !input.checked;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    data.cameras.forEach(function (camera) {
      var at = [camera.lat, camera.lng];
      var options = Object.assign({ interactive: false, className: "camera-cone" }, coneStyle(camera, false));
      var cone = L.polygon(connectCone(camera.lat, camera.lng, camera.direction, camera.fov, camera.range), options)
        .addTo(map);
      var classes = "incident-cam" + (camera.requested ? " is-asked" : "") + (camera.overwritten ? " is-stale" : "");
      var marker = L.marker(at, { icon: L.divIcon({ className: classes, iconSize: [26, 26] }), title: label(camera),
                                  keyboard: true, riseOnHover: true }).addTo(map);
      var icon = marker.getElement();
      icon.dataset.code = camera.code;
      icon.setAttribute("aria-label", label(camera));
      if (camera.requested) icon.setAttribute("aria-disabled", "true");
      marker.on("click", function () { toggle(camera.code); });
      icon.addEventListener("keydown", function (e) {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();  // no page scroll on Space
        toggle(camera.code);
      });
      shown[camera.code] = { camera: camera, marker: marker, cone: cone };
      show(camera.code);
    });

    // The incident's point, at the centre of its radius.
    L.circleMarker(centre, { radius: 7, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 1,
                             interactive: false, className: "incident-point" }).addTo(map);

    document.getElementById("nearby-cameras").addEventListener("change", function (e) {
      var code = e.target.name === "camera" && e.target.value;
      if (code && shown[code]) show(code);
    });
    el.dataset.markers = String(data.cameras.length);
    // The admin's sidebar opens or closes without resizing the window, which is all Leaflet watches.
    if (window.ResizeObserver) new ResizeObserver(function () { map.invalidateSize(); }).observe(el);
  }

  // After the admin's deferred scripts, which lay out the sidebar beside the page: the map is sized once it is final.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
