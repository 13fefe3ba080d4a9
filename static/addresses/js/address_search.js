// Type-ahead address search as an ARIA combobox (WAI-ARIA 1.2 "list autocomplete"): type three letters or more,
// move through the suggestions with the up and down arrows, Enter picks, Escape closes. Suggestions come from
// /addresses/search.json (connect's address points, or the external geocoder it asks). The page's words come
// from #address-search-strings (templates/addresses/_search_strings.html), translated by the server.
(function () {
  "use strict";
  var DELAY_MS = 200, MIN_CHARS = 3, counter = 0;
  // "lat, lng" typed where a field takes either (the staff map) is no address: not looked up, not "not found".
  var COORDINATES = /^-?\d{1,3}(\.\d+)?\s*,\s*-?\d{1,3}(\.\d+)?$/;

  // Staff pages (the map, the admin) are in English and carry no translated words: these stand in.
  var DEFAULTS = {
    listLabel: "Matching addresses", foundOne: "1 address found: press the down arrow to choose it, then Enter.",
    foundMany: "{n} addresses found: choose one with the up and down arrows, then press Enter.",
    none: "No address found. Check the spelling, or click the map.",
    failed: "Address search is not available just now: click the map instead.",
  };

  function strings() {
    var el = document.getElementById("address-search-strings"), words = Object.assign({}, DEFAULTS);
    if (el) Object.keys(el.dataset).forEach(function (key) { words[key] = el.dataset[key]; });
    return words;
  }

  function say(status, text) { status.textContent = text || ""; }

  // input: a text input; options: {onPick(place), via: "map" | "register" | ...}. Returns {close}.
  window.connectAddressSearch = function (input, options) {
    var words = strings(), id = "address-options-" + (++counter);
    var list = document.createElement("ul"), status = document.createElement("p");
    list.id = id; list.className = "address-options"; list.setAttribute("role", "listbox"); list.hidden = true;
    list.setAttribute("aria-label", words.listLabel || "Addresses");
    status.className = "address-status"; status.setAttribute("role", "status"); status.setAttribute("aria-live", "polite");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    input.setAttribute("autocomplete", "off");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    status.id = id + "-status";
    described.push(status.id);
    input.setAttribute("aria-describedby", described.join(" "));
    input.insertAdjacentElement("afterend", status);
    input.insertAdjacentElement("afterend", list);

    var places = [], active = -1, timer = null, pending = null, asked = "";

    function close() {
      list.hidden = true; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = list.children;
      if (!items.length) return;
      active = (index + items.length) % items.length;
      Array.prototype.forEach.call(items, function (li, i) { li.setAttribute("aria-selected", String(i === active)); });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function pick(index) {
      var place = places[index];
      if (!place) return;
      input.value = place.address;
      close();
      options.onPick(place);
    }

    function show(results) {
      places = results; list.textContent = "";
      results.forEach(function (place, i) {
        var li = document.createElement("li");
        li.id = id + "-" + i; li.setAttribute("role", "option"); li.setAttribute("aria-selected", "false");
        li.textContent = place.address;
        // mousedown, not click: the input must not lose focus (and close the list) first
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      if (!results.length) { close(); say(status, words.none); return; }
      list.hidden = false; active = -1;
      input.setAttribute("aria-expanded", "true");
      input.removeAttribute("aria-activedescendant");
      say(status, (results.length === 1 ? words.foundOne : words.foundMany).replace("{n}", results.length));
    }

    function ask() {
      var text = input.value.trim();
      if (text === asked) return;
      asked = text;
      if (text.length < MIN_CHARS || COORDINATES.test(text)) { close(); say(status, ""); return; }
      if (pending) pending.abort();
      pending = new AbortController();
      var params = new URLSearchParams({ q: text, via: options.via || "" });
      fetch("/addresses/search.json?" + params, { credentials: "same-origin", signal: pending.signal })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          if (!res.ok) { close(); say(status, res.body.detail || words.failed); return; }
          show(res.body.results);
        })
        .catch(function (e) { if (e.name !== "AbortError") { close(); say(status, words.failed); } });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (e) {
      var open = !list.hidden;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (!open && places.length && input.value.trim() === asked) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (list.hidden) return;
        e.preventDefault();
        highlight(active < 0 ? (e.key === "ArrowDown" ? 0 : -1) : active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Enter" && open && active >= 0) {
        e.preventDefault();  // picks the address; the form is not sent
        pick(active);
      } else if (e.key === "Escape" && open) {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    return { close: close, status: function (text) { say(status, text); } };
  };

  // The nearest address point to a place, or null (also when the lookup fails: the point itself is what counts).
  window.connectReverseAddress = function (lat, lng, via) {
    var params = new URLSearchParams({ lat: lat.toFixed(6), lng: lng.toFixed(6), via: via || "" });
    return fetch("/addresses/reverse.json?" + params, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { result: null }; })
      .then(function (body) { return body.result; })
      .catch(function () { return null; });
  };
})();
