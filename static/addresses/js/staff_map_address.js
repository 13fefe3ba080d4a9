// The staff map's search field suggests addresses as the investigator types (address_search.js); picking one runs
// the radius search around it, as typing the address and pressing Search does (static/registry/js/map.js).
(function () {
  "use strict";
  var input = document.getElementById("search-q"), form = document.getElementById("search-form");
  if (!input || !form || !window.connectAddressSearch) return;
  connectAddressSearch(input, { via: "map", onPick: function () { form.requestSubmit(); } });
})();
