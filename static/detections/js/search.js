// The search page's small map: the cameras of the matches, numbered as the results are.
(function () {
  "use strict";
  var element = document.getElementById("det-map");
  var points = JSON.parse(document.getElementById("det-points").textContent);
  var config = JSON.parse(document.getElementById("map-config").textContent);
  if (!element || !points.length) return;
  var map = L.map(element);
  window.connectBaseMap(map, config);
  var bounds = [];
  points.forEach(function (p) {
    L.marker([p.lat, p.lng], { title: p.n + ". " + p.label }).addTo(map);
    bounds.push([p.lat, p.lng]);
  });
  map.fitBounds(bounds, { maxZoom: 17, padding: [20, 20] });
})();
