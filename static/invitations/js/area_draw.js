// Draws a campaign's area on a map: the polygon drawn goes, as GeoJSON, into the area field (which without
// JavaScript is a plain text box for pasted GeoJSON).
(function () {
  "use strict";
  var element = document.getElementById("area-map");
  var field = document.getElementById("id_area_geojson");
  if (!element || !field || !window.L || !L.Control.Draw) return;
  var config = JSON.parse(document.getElementById("map-config").textContent);
  element.hidden = false;
  element.style.height = "320px";
  var map = L.map(element, { maxZoom: 19, minZoom: 3, attributionControl: !!config.tiles });
  connectBaseMap(map, config);
  var ring = config.area.type === "Polygon" ? config.area.coordinates[0] : config.area.coordinates[0][0];
  map.fitBounds(L.latLngBounds(ring.map(function (c) { return [c[1], c[0]]; })));
  var drawn = new L.FeatureGroup().addTo(map);
  map.addControl(new L.Control.Draw({
    draw: { polygon: true, rectangle: true, polyline: false, circle: false, marker: false, circlemarker: false },
    edit: { featureGroup: drawn }
  }));
  function save() {
    var layers = drawn.getLayers();
    field.value = layers.length ? JSON.stringify(layers[layers.length - 1].toGeoJSON().geometry) : "";
  }
  map.on(L.Draw.Event.CREATED, function (e) { drawn.clearLayers(); drawn.addLayer(e.layer); save(); });
  map.on(L.Draw.Event.EDITED, save);
  map.on(L.Draw.Event.DELETED, save);
})();
