// Places a camera on a small map: a click fills latitude/longitude; the cone follows direction, field of view
// and range. Without JavaScript the same fields are plain inputs, so the form still works.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);

  function areaBounds() {
    if (config.focus) return L.latLngBounds(config.focus);  // an invitation's area (registry/views/registration.py)
    var ring = config.area.type === "Polygon" ? config.area.coordinates[0] : config.area.coordinates[0][0];
    return L.latLngBounds(ring.map(function (c) { return [c[1], c[0]]; }));
  }

  window.connectPicker = function (element) {
    if (element.dataset.ready) return;
    element.dataset.ready = "1";
    element.hidden = false;  // hidden in the page: without JavaScript it would be an empty box
    var field = function (name) { return document.getElementById(element.dataset[name]); };
    // The latitude's help says how to type it (all there is without JavaScript); with the map, clicking it works too.
    var help = document.getElementById(element.dataset.lat + "_helptext");
    if (help && element.dataset.help) help.textContent = element.dataset.help;
    var map = L.map(element, { maxZoom: 19, minZoom: 3, attributionControl: !!config.tiles });
    connectBaseMap(map, config);
    var marker = null, cone = null;

    function draw() {
      var lat = parseFloat(field("lat").value), lng = parseFloat(field("lng").value);
      if (isNaN(lat) || isNaN(lng)) return;
      var dir = parseFloat(field("dir").value) || 0, fov = parseFloat(field("fov").value) || 90;
      var range = parseFloat(field("range").value) || 30;
      if (!marker) marker = L.circleMarker([lat, lng], { radius: 6, color: "#b3261e" }).addTo(map);
      marker.setLatLng([lat, lng]);
      if (cone) map.removeLayer(cone);
      cone = L.polygon(connectCone(lat, lng, dir, fov, range), { color: "#b3261e", weight: 1, fillOpacity: 0.2 }).addTo(map);
    }

    map.on("click", function (e) {
      field("lat").value = e.latlng.lat.toFixed(6);
      field("lng").value = e.latlng.lng.toFixed(6);
      draw();
      // static/addresses/js/camera_address.js fills the address of the place clicked
      element.dispatchEvent(new CustomEvent("camera:placed", { detail: { lat: e.latlng.lat, lng: e.latlng.lng } }));
    });
    // For address search and "use the map centre" (camera_address.js): put the camera at a point and show it.
    element.connectMap = map;
    element.connectPlace = function (lat, lng, keepView) {
      field("lat").value = lat.toFixed(6);
      field("lng").value = lng.toFixed(6);
      draw();
      if (!keepView) map.setView([lat, lng], Math.max(map.getZoom(), 18));
    };
    ["lat", "lng", "dir", "fov", "range"].forEach(function (name) { field(name).addEventListener("input", draw); });
    var lat = parseFloat(field("lat").value), lng = parseFloat(field("lng").value);
    if (!isNaN(lat) && !isNaN(lng)) { map.setView([lat, lng], 17); draw(); } else { map.fitBounds(areaBounds()); }
  };
})();
