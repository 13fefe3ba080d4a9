// The consent page's upload. The chosen files go one after another as the raw request body to the streaming
// endpoint (names and sizes in headers), which seals each once as it arrives; progress shows here. Without this
// script the plain form sends them. Either way the files are kept, or refused, together.
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

  function upload(form, files) {
    var messages = byId("upload-messages").dataset;
    var status = byId("upload-status"), bar = byId("upload-progress"), text = byId("upload-status-text");
    var button = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    function finished() { busy = false; button.disabled = false; status.hidden = true; }
    xhr.open("POST", form.dataset.streamUrl);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRFToken", form.elements.csrfmiddlewaretoken.value);
    xhr.setRequestHeader("X-Upload-Names", files.map(function (f) { return encodeURIComponent(f.name); }).join("/"));
    xhr.setRequestHeader("X-Upload-Sizes", files.map(function (f) { return f.size; }).join(","));
    xhr.setRequestHeader("X-Keep-Days", form.elements.keep_days.value);
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.floor(100 * event.loaded / event.total);
      bar.value = percent;
      text.textContent = messages.sending + " " + percent + "%";
    };
    xhr.upload.onload = function () { bar.removeAttribute("value"); text.textContent = messages.sealing; };
    xhr.onload = function () {
      finished();
      if (!showPage(xhr.responseText)) showError(messages.failed);
    };
    xhr.onerror = xhr.onabort = xhr.ontimeout = function () { finished(); showError(messages.failed); };
    busy = true;
    button.disabled = true;
    status.hidden = false;
    bar.value = 0;
    text.textContent = messages.sending + " 0%";
    xhr.send(new Blob(files));  // the files themselves, one after another: nothing is copied into memory
  }

  function attach() {
    var form = byId("upload-form");
    if (!form || !form.dataset.streamUrl) return;
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
