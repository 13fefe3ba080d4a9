// The staff map: active cameras in view from /map/cameras.json (each camera, clustered here, when few enough are in
// view; else the server's groups with true counts), layers by kind and level, view cones when zoomed in, and radius
// searches from a click or an address.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var statusEl = document.getElementById("map-status"), resultsEl = document.getElementById("results");
  var CONE_ZOOM = 16;
  // maxZoom is set here because with no tile layer (offline, tests) Leaflet would have none and clustering fails.
  var map = L.map("map", { preferCanvas: true, maxZoom: 19, minZoom: 3, attributionControl: !!config.tiles });
  var area = connectBaseMap(map, config);
  map.fitBounds(area.getBounds());
  window.connectStaffMap = map;  // for other layers (static/dispatch/js/dispatch_layer.js)

  var clusters = L.markerClusterGroup({ chunkedLoading: true, disableClusteringAtZoom: 17 }).addTo(map);
  var groups = L.layerGroup().addTo(map);  // the server's groups when too many cameras are in view
  var cones = L.layerGroup().addTo(map), searchLayer = L.layerGroup().addTo(map);
  var markersByCode = {}, pending = null, zooming = false;
  map.on("zoomstart", function () { zooming = true; });
  map.on("zoomend", function () { zooming = false; });

  // Keyboard users keep their place. Every load rebuilds the markers, and the one that had focus took it with it to
  // the page's body: note whose marker it was, and where, and give focus to that camera's new marker (or the group
  // now holding it); a group has no camera to follow, so the marker now nearest to where it stood gets focus (the
  // server regroups on every pan); else the map itself.
  var mapEl = document.getElementById("map");
  var REFOCUS_PX = 80;  // one arrow-key pan: a group further than this from where it was is not the same group
  function focusedMarker() {
    var active = document.activeElement;
    if (!active || !mapEl.contains(active) || !active.closest(".leaflet-marker-pane")) return null;
    var was = { code: null, at: map.layerPointToLatLng(L.DomUtil.getPosition(active)) };
    for (var code in markersByCode) if (markersByCode[code].getElement() === active) was.code = code;
    return was;
  }
  function nearestMarkerElement(latlng) {
    var target = map.latLngToLayerPoint(latlng), best = null, bestDistance = REFOCUS_PX;
    mapEl.querySelectorAll(".leaflet-marker-pane .leaflet-marker-icon").forEach(function (el) {
      var distance = L.DomUtil.getPosition(el).distanceTo(target);
      if (distance <= bestDistance) { best = el; bestDistance = distance; }
    });
    return best;
  }
  function refocus(was) {
    if (!was) return;
    var m = was.code && markersByCode[was.code], shown = m && clusters.getVisibleParent(m);
    var el = (shown && shown.getElement()) || nearestMarkerElement(was.at);
    (el || mapEl).focus({ preventScroll: true });
  }
  // Arrow keys pan from a focused marker too: Leaflet pans only while the map itself has focus.
  var PAN = { ArrowLeft: [-80, 0], ArrowRight: [80, 0], ArrowUp: [0, -80], ArrowDown: [0, 80] };
  mapEl.addEventListener("keydown", function (e) {
    var delta = PAN[e.key];
    if (!delta || e.altKey || e.ctrlKey || e.metaKey || !e.target.classList.contains("leaflet-marker-icon")) return;
    e.preventDefault();
    map.panBy(e.shiftKey ? [delta[0] * 3, delta[1] * 3] : delta);
  });

  function text(value) { var span = document.createElement("span"); span.textContent = value; return span.innerHTML; }
  function icon(kind, level) {
    return L.divIcon({ className: "cam cam-" + kind + (level === "integrated" ? " cam-integrated" : ""), iconSize: [14, 14] });
  }
  // Integrated cameras get a "Watch live" button for those allowed to open live views (live_view.js).
  function watchButton(c) {
    if (!config.canWatchLive || c.level !== "integrated") return "";
    return " <button type=\"button\" class=\"button watch-live\" data-watch-live=\"" + c.code + "\">Watch live</button>";
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-watch-live]");
    if (button && window.connectLive) window.connectLive.open(button.dataset.watchLive);
  });
  function checked(name) {
    return Array.prototype.map.call(document.querySelectorAll("#layers input[name=" + name + "]:checked"), function (i) { return i.value; });
  }

  function load() {
    var size = map.getSize();
    if (!size.x || !size.y) return;  // not laid out yet: its bounds would be a line, and the server refuses those
    var b = map.getBounds(), params = new URLSearchParams();
    params.set("bbox", [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180),
                        Math.min(b.getNorth(), 90)].map(function (v) { return v.toFixed(6); }).join(","));
    params.set("zoom", String(map.getZoom()));
    var kinds = checked("kind"), levels = checked("level");
    if (!kinds.length || !levels.length) { clear(); statusEl.textContent = "No layer selected."; return; }
    kinds.forEach(function (k) { params.append("kind", k); });
    levels.forEach(function (l) { params.append("level", l); });
    if (pending) pending.abort();
    pending = new AbortController();
    fetch("/map/cameras.json?" + params, { signal: pending.signal, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (body) { if (body.mode === "clusters") drawClusters(body); else draw(body.cameras); })
      .catch(function (e) { if (e.name !== "AbortError") statusEl.textContent = "Could not load cameras (" + e.message + ")."; });
  }

  function clear() { clusters.clearLayers(); groups.clearLayers(); cones.clearLayers(); markersByCode = {}; }

  // Too many cameras in view for one marker each: the server counted every one of them per square.
  function drawClusters(body) {
    var was = focusedMarker();
    clear();
    body.clusters.forEach(function (c) {
      var count = c[2], live = c[3], size = count < 100 ? 34 : count < 10000 ? 42 : 52;
      var label = count.toLocaleString() + " cameras" + (live ? ", " + live.toLocaleString() + " live" : "") + ": zoom in";
      var m = L.marker([c[0], c[1]], {
        icon: L.divIcon({ className: "marker-cluster server-cluster " + (count < 100 ? "marker-cluster-small" : count < 10000 ? "marker-cluster-medium" : "marker-cluster-large"),
                          html: "<div><span>" + (count >= 10000 ? Math.round(count / 1000) + "k" : count) + "</span></div>",
                          iconSize: [size, size] }),
        title: label, alt: label, keyboard: true });
      var zoomIn = function () { map.setView([c[0], c[1]], Math.min(map.getZoom() + 2, map.getMaxZoom())); };
      m.on("click", zoomIn);
      m.on("keypress", function (e) { if (e.originalEvent.keyCode === 13) zoomIn(); });  // Enter, as a click
      groups.addLayer(m);
    });
    refocus(was);
    statusEl.textContent = body.total.toLocaleString() + " cameras in view, grouped: zoom in to see each one.";
    mapEl.dataset.loaded = String(body.total);
    mapEl.dataset.mode = "clusters";
    mapEl.dataset.draws = String(Number(mapEl.dataset.draws || 0) + 1);  // for tests: a load has been drawn
  }

  function draw(data) {
    var was = focusedMarker();
    clear();
    var markers = data.features.map(function (f) {
      var p = f.properties, ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var m = L.marker(ll, { icon: icon(p.kind, p.level), title: p.label, keyboard: true });
      m.bindPopup("<strong>" + text(p.label) + "</strong><br>" + text(p.kind) + " · " + text(p.level) +
        "<br>faces " + p.dir + "°, " + p.fov + "° wide, " + p.range + " m" + watchButton(p));
      markersByCode[p.code] = m;
      if (map.getZoom() >= CONE_ZOOM) {
        cones.addLayer(L.polygon(connectCone(ll[0], ll[1], p.dir, p.fov, p.range),
          { color: p.level === "integrated" ? "#7b1fa2" : "#1f5f99", weight: 1, fillOpacity: 0.15, interactive: false }));
      }
      return m;
    });
    clusters.addLayers(markers);
    refocus(was);
    statusEl.textContent = data.features.length + " cameras in view" +
      (data.truncated ? " (only the first " + data.features.length + ": zoom in to see all)" : "") + ".";
    mapEl.dataset.loaded = String(data.features.length);
    mapEl.dataset.mode = "cameras";
    mapEl.dataset.draws = String(Number(mapEl.dataset.draws || 0) + 1);
  }

  function search(params) {
    var radius = document.getElementById("search-radius").value || "300";
    params.set("radius", radius);
    resultsEl.textContent = "Searching…";
    fetch("/map/nearby.json?" + params, { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { resultsEl.textContent = res.body.detail || "Search failed."; return; }
        showResults(res.body);
      })
      .catch(function () { resultsEl.textContent = "Search failed: the server could not be reached."; });
  }

  // Cases this user may send footage requests for: choosing one searches around it, and the results
  // get checkboxes (cameras facing the spot ticked) and a button that sends the requests.
  var caseSelect = document.getElementById("case-select"), cases = {};
  fetch("/requests/incidents.json", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { incidents: [] }; })
    .then(function (body) {
      body.incidents.forEach(function (c) {
        cases[c.code] = c;
        var option = document.createElement("option");
        option.value = c.code;
        option.textContent = c.case_number + " · " + c.offense_type;
        caseSelect.appendChild(option);
      });
      document.getElementById("case-panel").hidden = !body.incidents.length;
    })
    .catch(function () {});
  caseSelect.addEventListener("change", function () {
    var c = cases[caseSelect.value], wall = document.getElementById("case-wall");
    if (wall) { wall.hidden = !c; if (c) wall.href = "/live/wall/?incident=" + encodeURIComponent(c.code); }
    if (!c) return;
    document.getElementById("search-radius").value = c.radius;
    search(new URLSearchParams({ lat: c.lat.toFixed(6), lng: c.lng.toFixed(6), case: c.case_number }));
  });

  function addRequestControls(body) {
    var c = cases[caseSelect.value];
    if (!c || !body.cameras.length) return;
    resultsEl.querySelectorAll("li").forEach(function (li) {
      var box = document.createElement("input");
      box.type = "checkbox"; box.name = "camera"; box.value = li.dataset.code;
      box.checked = li.classList.contains("covers");
      box.setAttribute("aria-label", "Request footage from " + li.querySelector("button").textContent);
      var pick = document.createElement("label");  // a finger-sized target around the box (site.css)
      pick.className = "pick";
      pick.appendChild(box);
      li.insertBefore(pick, li.firstChild);
    });
    var send = document.createElement("button");
    send.type = "button"; send.className = "button primary"; send.id = "send-requests";
    send.textContent = "Send footage requests for " + c.case_number;
    var note = document.createElement("p"); note.setAttribute("role", "status");
    resultsEl.appendChild(send); resultsEl.appendChild(note);
    send.addEventListener("click", function () {
      var codes = Array.prototype.map.call(resultsEl.querySelectorAll("input[name=camera]:checked"), function (b) { return b.value; });
      if (!codes.length) { note.textContent = "Tick at least one camera."; return; }
      send.disabled = true;
      fetch("/requests/incidents/" + c.code + "/send/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json",
                   "X-CSRFToken": document.querySelector("#case-panel input[name=csrfmiddlewaretoken]").value },
        body: JSON.stringify({ cameras: codes })
      }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (res) {
          send.disabled = false;
          note.textContent = res.ok ? res.body.queued + " request(s) queued for " + res.body.case_number +
            (res.body.skipped ? "; " + res.body.skipped + " already asked or not active." : ".") : res.body.detail;
        })
        .catch(function () { send.disabled = false; note.textContent = "Could not reach the server."; });
    });
  }

  function showResults(body) {
    searchLayer.clearLayers();
    var center = [body.center.lat, body.center.lng];
    searchLayer.addLayer(L.circle(center, { radius: body.radius, color: "#b3261e", weight: 2, fill: false, interactive: false }));
    searchLayer.addLayer(L.circleMarker(center, { radius: 5, color: "#b3261e", fillOpacity: 1 }));
    // Leaflet drops a new view asked for while a zoom animates (a group's zoom-in): ask again once it ends.
    var fit = function () { map.fitBounds(L.latLng(center).toBounds(body.radius * 2.2)); };
    if (zooming) map.once("zoomend", fit); else fit();
    var covering = body.cameras.filter(function (c) { return c.covers; }).length;
    var html = "<h2>" + body.cameras.length + " camera" + (body.cameras.length === 1 ? "" : "s") + " within " + body.radius +
      " m</h2><p>" + covering + " of them face the point." +
      (body.truncated ? " <strong>Only the nearest " + body.cameras.length + " are listed: use a smaller radius.</strong>" : "") +
      "</p><ol class=\"results\">";
    body.cameras.forEach(function (c) {
      html += "<li data-code=\"" + c.code + "\"" + (c.covers ? " class=\"covers\"" : "") + "><button type=\"button\" class=\"link\">" +
        text(c.label) + "</button> · " + Math.round(c.distance_m) + " m · " + text(c.kind) + (c.level === "integrated" ? " · live" : "") + watchButton(c) +
        (c.covers ? " · <strong>faces the point</strong>" : "") + "</li>";
    });
    resultsEl.innerHTML = html + "</ol>";
    addRequestControls(body);
    resultsEl.querySelectorAll("li").forEach(function (li) {
      var c = body.cameras.find(function (x) { return x.code === li.dataset.code; });
      li.querySelector("button").addEventListener("click", function () {
        map.setView([c.lat, c.lng], 18);
        var m = markersByCode[c.code];
        if (m) clusters.zoomToShowLayer(m, function () { m.openPopup(); });
      });
    });
  }

  map.on("moveend", load);
  map.on("click", function (e) {
    var params = new URLSearchParams({ lat: e.latlng.lat.toFixed(6), lng: e.latlng.lng.toFixed(6) });
    search(params);
  });
  document.getElementById("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = document.getElementById("search-q").value.trim();
    if (!q) { resultsEl.textContent = "Type an address or “lat, lng”, or click the map."; return; }
    search(new URLSearchParams({ q: q }));
  });
  document.getElementById("layers").addEventListener("change", load);
  load();
})();
