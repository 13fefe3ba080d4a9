// The admin's point widgets (an incident's place, a camera's): an address field above the map that suggests
// addresses as the investigator types (address_search.js); picking one moves the point there and fills the form's
// address field if it is empty. A point drawn on the map fills an empty address field with the nearest address.
(function () {
  "use strict";
  if (!window.connectAddressSearch) return;

  function addressField() { return document.getElementById("id_address"); }

  function attach(map, field) {
    var container = map.getContainer(), wrapper = document.createElement("div");
    var id = container.id + "-address-search";
    wrapper.className = "admin-address-search";
    wrapper.innerHTML = '<label for="' + id + '">Find an address</label><input type="text" id="' + id + '" class="vTextField">';
    container.insertAdjacentElement("beforebegin", wrapper);
    var input = wrapper.querySelector("input");
    // Enter picks an address here; it must never send the admin's form.
    input.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });

    function place(lat, lng) {
      field.drawnItems.eachLayer(function (layer) { map.removeLayer(layer); });
      field.drawnItems.clearLayers();
      var marker = L.marker([lat, lng]);
      map.addLayer(marker);
      field.drawnItems.addLayer(marker);
      field.store.save(field.drawnItems);
      map.setView([lat, lng], Math.max(map.getZoom(), 17));
    }

    var box = connectAddressSearch(input, {
      via: "admin",
      onPick: function (found) {
        place(found.lat, found.lng);
        var address = addressField();
        if (address && !address.value.trim()) address.value = found.address;
        box.status("Point placed at " + found.address + ".");
      },
    });
    map.on("draw:created", function (e) {
      var address = addressField();
      if (!address || address.value.trim() || !e.layer.getLatLng) return;
      var point = e.layer.getLatLng();
      connectReverseAddress(point.lat, point.lng, "admin").then(function (found) {
        if (found && !address.value.trim()) address.value = found.address;
      });
    });
  }

  window.addEventListener("map:init", function (event) {
    var map = event.detail.map;
    map.on("map:loadfield", function (e) { if (e.field && e.field.store) attach(map, e.field); });
  });
})();
