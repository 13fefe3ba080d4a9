// The requests' areas on the site's base map (connect/js/basemap.js): each drawn a few blocks wide, as the server
// coarsened it. Tiles may fail (offline): the areas, service area and districts are drawn without them.
(function () {
  "use strict";
  var element = document.getElementById("requests-map");
  if (!element || !window.L) return;
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var areas = JSON.parse(document.getElementById("request-areas").textContent);
  var map = L.map(element, { maxZoom: 18, minZoom: 3, attributionControl: !!config.tiles });
  var outline = connectBaseMap(map, config);
  var drawn = L.featureGroup().addTo(map);
  areas.forEach(function (item) {
    var style = item.active ? { color: "#b3261e", weight: 2, fillOpacity: 0.15 }
                            : { color: "#5c5c5c", weight: 1, dashArray: "4 4", fillOpacity: 0.05 };
    var layer = L.geoJSON(item.area, { style: style });
    layer.on("click", function () {
      var row = document.getElementById("request-" + item.code);
      if (row) row.scrollIntoView({ behavior: "smooth" });
    });
    drawn.addLayer(layer);
  });
  var bounds = drawn.getLayers().length ? drawn.getBounds() : outline.getBounds();
  map.fitBounds(bounds, { padding: [12, 12], maxZoom: 16 });
  element.dataset.areas = String(drawn.getLayers().length);
})();
