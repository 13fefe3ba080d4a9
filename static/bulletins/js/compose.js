// The compose page: the map sets the bulletin's location; the case's picker of stills and clips, with its player.

// The map: a click sets the bulletin's location (the latitude and longitude fields).
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

// The compose page's picker: a case chosen shows its stills and clips (fetched, each listing recorded by the server);
// a clip picked plays in the player, whose "Set in here" / "Set out here" fill the segment's fields. Without this
// script the page's "Show the chosen case's stills and clips" button does the same by posting the form.
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  var caseField = document.getElementById("id_incident");
  var box = document.getElementById("clip-player-box");
  var player = document.getElementById("clip-player");
  if (!form || !caseField || !box || !player) return;
  var inField = document.getElementById("id_clip_in"), outField = document.getElementById("id_clip_out");
  var points = document.getElementById("clip-points");
  var show = form.querySelector("button[name=show_media]");
  if (show) show.parentNode.remove();  // the case's list follows the choice of case by itself now

  function picked() { return form.querySelector("input[name=pick]:checked"); }

  function follow() {
    var chosen = picked();
    if (chosen && chosen.value) {  // a picked item replaces a typed code
      document.getElementById("id_evidence").value = "";
      document.getElementById("id_clip").value = "";
    }
    var play = chosen && chosen.dataset.kind === "clip" ? chosen.dataset.play : "";
    if (!play) { box.hidden = true; player.removeAttribute("src"); player.load(); return; }
    if (player.dataset.src !== play) { player.dataset.src = play; player.src = play; }
    box.hidden = false;
  }

  function load() {
    var current = document.getElementById("case-media");
    if (current.dataset.case === caseField.value) return;
    var url = form.dataset.mediaUrl + "?incident=" + encodeURIComponent(caseField.value);
    fetch(url, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      document.getElementById("case-media").replaceWith(holder.firstElementChild);
      follow();
    }).catch(function () { /* the typed codes still work */ });
  }

  function set(field, label) {
    if (!player.src) return;
    field.value = player.currentTime.toFixed(1);
    points.textContent = label + " " + field.value + " s";
  }

  caseField.addEventListener("change", load);
  form.addEventListener("change", function (event) { if (event.target.name === "pick") follow(); });
  document.getElementById("clip-set-in").addEventListener("click", function () {
    set(inField, this.textContent.trim() + ":");
  });
  document.getElementById("clip-set-out").addEventListener("click", function () {
    set(outField, this.textContent.trim() + ":");
  });
  follow();
})();
