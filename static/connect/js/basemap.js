// What every map draws under its own layers: streets from the configured tile server, and the service area and
// districts, which need no server. When tiles cannot be loaded (offline, a blocked or failing tile server) the map
// says so in one line and stays usable. config: {tiles, tileOptions, area, districts, tilesFailed}.
(function () {
  "use strict";
  var AREA = { color: "#1f5f99", weight: 1, fill: false, interactive: false };

  // Leaflet finds its default marker's images from the URL of marker-icon.png in leaflet.css, which collectstatic
  // renames by its hash: Leaflet then asked the page's own path for "marker-shadow.png" (a broken marker, and the
  // admin's "does not exist" message). The plain names stay served beside the hashed ones, under this script's
  // static root.
  var staticRoot = document.currentScript ? document.currentScript.src.replace(/connect\/js\/basemap[^/]*$/, "") : "";
  function markerImages() { if (window.L && staticRoot) L.Icon.Default.imagePath = staticRoot + "leaflet/images/"; }
  markerImages();
  document.addEventListener("DOMContentLoaded", markerImages);  // the admin's widgets load Leaflet after this script
  var DISTRICT = { color: "#5c5c5c", weight: 1, dashArray: "4 4", fill: false, interactive: false };

  // A one-line notice while no tile has loaded and some failed; gone as soon as one loads.
  function watchTiles(map, layer, message) {
    var notice = null, loaded = false;
    layer.on("tileload", function () {
      loaded = true;
      if (notice) { map.removeControl(notice); notice = null; }
    });
    layer.on("tileerror", function () {
      if (loaded || notice) return;
      notice = L.control({ position: "bottomleft" });
      notice.onAdd = function () {
        var div = L.DomUtil.create("div", "map-notice");
        div.setAttribute("role", "status");
        div.textContent = typeof message === "function" ? message() : message;
        return div;
      };
      notice.addTo(map);
      map.getContainer().dataset.tiles = "failed";
    });
  }

  window.connectBaseMap = function (map, config) {
    if (config.tiles) {
      var layer = L.tileLayer(config.tiles, config.tileOptions).addTo(map);
      watchTiles(map, layer, config.tilesFailed);
    }
    if (config.districts && config.districts.features.length) L.geoJSON(config.districts, { style: DISTRICT }).addTo(map);
    return L.geoJSON(config.area, { style: AREA }).addTo(map);
  };

  // The admin's map widgets (django-leaflet) add their own tile layer: they get the notice and the outlines too.
  window.connectWatchTiles = watchTiles;
})();
