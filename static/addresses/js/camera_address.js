// A camera's place without a mouse or coordinates: its street address field searches as the person types (an ARIA
// combobox, address_search.js) and picking an address puts the camera there; "Use the map centre" puts it where the
// map is centred (the map pans with the arrow keys and zooms with + and -). A click on the map, or the map centre,
// fills the address field with the nearest address point when the person has not typed one of their own.
// Loaded after camera_picker.js and before register.js, it adds this to every picker connectPicker() makes.
(function () {
  "use strict";
  var original = window.connectPicker;
  if (!original || !window.connectAddressSearch) return;

  function words() {
    var el = document.getElementById("address-search-strings");
    return el ? el.dataset : {};
  }

  function attach(element) {
    var input = document.getElementById(element.dataset.address), text = words();
    if (!input) return;
    var filledByLookup = false;  // the text came from a lookup, not the person: a new place may replace it
    var via = location.pathname.indexOf("/owner/") === 0 ? "owner" : "register";
    var box = connectAddressSearch(input, {
      via: via,
      onPick: function (place) {
        element.connectPlace(place.lat, place.lng);
        filledByLookup = false;  // chosen by the person
        box.status((text.placed || "").replace("{address}", place.address));
      },
    });
    input.addEventListener("input", function () { filledByLookup = false; });
    if (!input.value) box.status(text.hint);

    function fillAddress(lat, lng) {
      if (input.value.trim() && !filledByLookup) { box.status(text.placedKept); return; }
      connectReverseAddress(lat, lng, via).then(function (place) {
        if (place && (!input.value.trim() || filledByLookup)) {
          input.value = place.address;
          filledByLookup = true;
          box.status((text.filled || "").replace("{address}", place.address));
        } else {
          box.status(text.placedNoAddress);
        }
      });
    }

    var centre = document.createElement("button");
    centre.type = "button";
    centre.className = "button map-centre";
    centre.textContent = text.centre || "Use the map centre";
    element.insertAdjacentElement("afterend", centre);
    centre.addEventListener("click", function () {
      var point = element.connectMap.getCenter();
      element.connectPlace(point.lat, point.lng, true);
      fillAddress(point.lat, point.lng);
    });
    element.addEventListener("camera:placed", function (e) { fillAddress(e.detail.lat, e.detail.lng); });
  }

  window.connectPicker = function (element) {
    var fresh = !element.dataset.ready;
    original(element);
    if (fresh && element.connectPlace) attach(element);
  };
})();
