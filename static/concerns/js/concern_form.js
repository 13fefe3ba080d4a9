// The neighbour's address field searches as they type (address_search.js); choosing a suggestion fills the hidden
// latitude and longitude, and typing again clears them so the server looks the text up instead.
(function () {
  "use strict";
  var input = document.getElementById("id_address");
  var lat = document.getElementById("id_latitude"), lng = document.getElementById("id_longitude");
  if (!input || !window.connectAddressSearch) return;
  var words = document.getElementById("address-search-strings").dataset;
  var box = connectAddressSearch(input, {
    via: "concern",
    onPick: function (place) {
      lat.value = place.lat; lng.value = place.lng;
      box.status((words.picked || "").replace("{address}", place.address));
    },
  });
  input.addEventListener("input", function () { lat.value = ""; lng.value = ""; });
})();
