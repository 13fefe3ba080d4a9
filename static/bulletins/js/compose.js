// The compose page's map: a click sets the bulletin's location (the latitude and longitude fields).
(function () {
  "use strict";
  var box = document.getElementById("compose-map");
  if (!box || !window.L) return;
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var lat = document.getElementById("id_lat"), lng = document.getElementById("id_lng");
  var map = L.map(box);
  var area = window.connectBaseMap(map, config);
  var marker = null;
  function put(latlng) {
    if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng).addTo(map);
  }
  if (lat.value && lng.value) { put([+lat.value, +lng.value]); map.setView([+lat.value, +lng.value], 15); }
  else if (area.getBounds().isValid()) map.fitBounds(area.getBounds());
  else map.setView([35.78, -78.64], 12);
  map.on("click", function (event) {
    lat.value = event.latlng.lat.toFixed(6); lng.value = event.latlng.lng.toFixed(6);
    put(event.latlng);
  });
})();
