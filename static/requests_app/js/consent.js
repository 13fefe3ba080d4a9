// The consent page's upload: each chosen file sent in pieces to the resumable endpoint, which seals each piece
// as it arrives; progress shows here, and a dropped connection or a closed tab resumes where the server got to.
// Without this script the plain form sends them. Either way the files are kept, or refused, together.
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.DOMParser) return;
  var busy = false;

  function byId(id) { return document.getElementById(id); }

  function showError(message) {
    var summary = document.querySelector(".error-summary");
    if (!summary) {
      summary = document.createElement("div");
      summary.className = "error-summary";
      summary.setAttribute("role", "alert");
      summary.id = "error-summary";
      summary.appendChild(document.createElement("h2"));
      var first = document.querySelector("section.answer");
      first.parentNode.insertBefore(summary, first);
    }
    summary.querySelector("h2").textContent = message;
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  // The endpoint answers with a whole page, as the form would: its main content replaces this page's.
  function showPage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.querySelector("main");
    if (!main) return false;
    document.title = doc.title;
    document.querySelector("main").replaceWith(document.importNode(main, true));
    window.scrollTo(0, 0);
    var heading = document.querySelector(".error-summary") || document.querySelector("main h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    attach();  // a page with the form again (an error) uploads the same way
    return true;
  }

  // The resumable upload (tus 1.0.0): each file is created on the server, then sent in pieces from the offset
  // the server reports. A dropped connection is retried, with growing pauses, from the server's offset; a closed
  // tab is resumed when the same file is chosen again (its upload's address is kept in localStorage, keyed by the
  // file's name, size and date). When every file is whole, one request shares them all, or refuses them.
  var PIECE = 8 * 1024 * 1024;
  var RETRIES = 8;

  function request(method, url, headers, body, onprogress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onprogress) xhr.upload.onprogress = onprogress;
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = xhr.onabort = xhr.ontimeout = function () { reject(new Error("network")); };
      xhr.send(body === undefined ? null : body);
    });
  }

  function storageKey(url, file) {
    return "connect-upload:" + url + ":" + [file.name, file.size, file.lastModified].join(":");
  }

  function remembered(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      if (value === null) window.localStorage.removeItem(key); else window.localStorage.setItem(key, value);
    } catch (e) { /* storage off: the upload still works, it just cannot outlive the tab */ }
    return null;
  }

  function pause(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // A refusal (an error page): shown, and the upload stops there.
  function Refused(xhr) { this.xhr = xhr; }

  function upload(form, files) {
    var messages = byId("upload-messages").dataset;
    var status = byId("upload-status"), bar = byId("upload-progress"), text = byId("upload-status-text");
    var button = form.querySelector("button[type=submit]");
    var url = form.dataset.uploadsUrl;
    var tus = {"Tus-Resumable": "1.0.0", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value};
    var total = files.reduce(function (sum, f) { return sum + f.size; }, 0);
    var before = 0;  // bytes of the files already whole

    function headers(extra) { return Object.assign({}, tus, extra || {}); }
    function show(sent) {
      var percent = total ? Math.floor(100 * (before + sent) / total) : 100;
      bar.value = percent;
      text.textContent = messages.sending + " " + percent + "%";
    }

    function offsetOf(location) {  // null: the server no longer has it
      return request("HEAD", location, headers()).then(function (xhr) {
        if (xhr.status === 200) return Number(xhr.getResponseHeader("Upload-Offset"));
        if (xhr.status === 404) return null;
        if (xhr.status >= 500 || xhr.status === 423) throw new Error("server");
        throw new Refused(xhr);
      });
    }

    function create(file) {
      var name = btoa(unescape(encodeURIComponent(file.name)));
      return request("POST", url, headers({"Upload-Length": String(file.size), "Upload-Metadata": "filename " + name}))
        .then(function (xhr) {
          if (xhr.status !== 201) throw new Refused(xhr);
          return xhr.getResponseHeader("Location");
        });
    }

    function start(file) {  // [address, offset] of the file's upload: the one a closed tab left, or a new one
      var key = storageKey(url, file), location = remembered(key);
      var found = location ? offsetOf(location) : Promise.resolve(null);
      return found.then(function (offset) {
        if (offset !== null) return [location, offset];
        return create(file).then(function (created) { remembered(key, created); return [created, 0]; });
      });
    }

    function send(file, location, offset, failures) {
      if (offset >= file.size) return Promise.resolve(location);
      var piece = file.slice(offset, Math.min(offset + PIECE, file.size));
      return request("PATCH", location,
                     headers({"Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset)}),
                     piece, function (event) { show(offset + event.loaded); })
        .then(function (xhr) {
          if (xhr.status === 204) return send(file, location, Number(xhr.getResponseHeader("Upload-Offset")), 0);
          if (xhr.status === 409 || xhr.status === 423 || xhr.status >= 500) throw new Error("retry");
          throw new Refused(xhr);
        })
        .catch(function (error) {
          if (error instanceof Refused || failures >= RETRIES) throw error;
          text.textContent = messages.resuming;
          return pause(Math.min(30000, 1000 * Math.pow(2, failures)))  // then ask where to go on from
            .then(function () { return offsetOf(location); })
            .then(function (serverOffset) {
              if (serverOffset === null) throw new Refused(null);
              return send(file, location, serverOffset, failures + 1);
            }, function (again) {
              if (again instanceof Refused) throw again;
              return send(file, location, offset, failures + 1);  // still offline: wait longer, ask again
            });
        });
    }

    function each(index, done) {
      if (index === files.length) return Promise.resolve(done);
      var file = files[index];
      return start(file)
        .then(function (started) { show(started[1]); return send(file, started[0], started[1], 0); })
        .then(function (location) { before += file.size; return each(index + 1, done.concat([location])); });
    }

    function finish(locations) {
      text.textContent = messages.sealing;
      bar.removeAttribute("value");
      var ids = locations.map(function (location) { return location.split("/").pop(); });
      return request("POST", url + "finish/", headers({"X-Uploads": ids.join(","),
                                                       "X-Keep-Days": form.elements.keep_days.value}))
        .then(function (xhr) {
          if (xhr.status !== 200 && xhr.status !== 400 && xhr.status !== 410) throw new Refused(xhr);
          files.forEach(function (file) { remembered(storageKey(url, file), null); });
          return xhr;
        });
    }

    function finished() { busy = false; button.disabled = false; status.hidden = true; }
    busy = true;
    button.disabled = true;
    status.hidden = false;
    show(0);
    each(0, []).then(finish).then(function (xhr) {
      finished();
      if (!showPage(xhr.responseText)) showError(messages.failed);
    }, function (error) {
      finished();
      var xhr = error instanceof Refused ? error.xhr : null;
      if (error instanceof Refused && !(xhr && (xhr.status === 409 || xhr.status === 423))) {
        // refused or gone: a new try starts afresh (still offline: the addresses stay, to resume later)
        files.forEach(function (file) { remembered(storageKey(url, file), null); });
      }
      if (!(xhr && xhr.responseText && showPage(xhr.responseText))) showError(messages.failed);
    });
  }

  function attach() {
    var form = byId("upload-form");
    if (!form || !form.dataset.uploadsUrl || !window.Promise) return;
    form.addEventListener("submit", function (event) {
      var files = Array.prototype.slice.call(form.elements.clips.files || []);
      if (!files.length || !window.Blob) return;
      event.preventDefault();
      if (busy) return;
      var total = files.reduce(function (sum, f) { return sum + f.size; }, 0);
      if (total > Number(form.dataset.maxBytes)) {
        showError(byId("upload-messages").dataset.tooLarge);
        return;
      }
      upload(form, files);
    });
  }

  attach();
})();
