// The admin's map widgets (django-leaflet, which adds the tile layer): the notice for tiles that cannot be loaded,
// watched from the start, and the service area and districts from /map/base.json (static/connect/js/basemap.js).
(function () {
  "use strict";
  window.addEventListener("map:init", function (event) {
    var map = event.detail.map, message = "Street map unavailable.";  // until the translated words arrive
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) connectWatchTiles(map, layer, function () { return message; });
    });
    fetch("/map/base.json", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (config) {
        message = config.tilesFailed;
        var shown = map.getContainer().querySelector(".map-notice");
        if (shown) shown.textContent = message;
        connectBaseMap(map, Object.assign({}, config, { tiles: "" }));  // the widget has its own tile layer
      })
      .catch(function () { /* without outlines the widget still works */ });
  });
})();
