// The patrol page: bulletins live over ws/patrol/, newest first, updates threaded under the first bulletin.
// A new one sounds (once the officer turned the sound on: browsers allow audio only after a tap) and vibrates;
// the title, the page's badge and the installed app's badge count the bulletins not yet acknowledged. A bulletin
// is marked opened once the page is visible. A new bulletin's still follows its message on the socket as a binary
// frame (16 bytes of the bulletin's code, then the image); the page fetches it by address only when the server says
// so, when the frame does not come, or for the bulletins a (re)connection lists.
(function () {
  "use strict";
  var list = document.getElementById("bulletins");
  var statusEl = document.getElementById("status");
  var badge = document.getElementById("badge");
  var texts = JSON.parse(document.getElementById("patrol-texts").textContent);
  var baseTitle = document.title;
  var audio = null, socket = null, retry = 1000;
  var cards = {};  // code -> card element
  var EXPIRY_CHECK_MS = 5000;  // how often an open page looks for bulletins that expired
  var STILL_WAIT_MS = 10000;  // a still announced on the socket and not come by then is fetched by address

  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/patrol/sw.js", { scope: "/patrol/" }).catch(function () {});

  document.getElementById("sound-on").addEventListener("click", function (event) {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    audio.resume();
    event.target.hidden = true;
    beep();
  });

  // Web Push (when the agency configured it): the officer subscribes this phone; the server stores it as theirs.
  var pushButton = document.getElementById("push-on");
  if (pushButton && "serviceWorker" in navigator && "PushManager" in window) {
    navigator.serviceWorker.ready.then(function (reg) {
      return reg.pushManager.getSubscription().then(function (existing) { pushButton.hidden = !!existing; });
    }).catch(function () {});
    pushButton.addEventListener("click", function () {
      pushButton.disabled = true;
      navigator.serviceWorker.ready.then(function (reg) {
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(pushButton.dataset.key) });
      }).then(function (subscription) {
        return fetch(pushButton.dataset.url, {
          method: "POST", credentials: "same-origin", body: JSON.stringify(subscription.toJSON()),
          headers: { "Content-Type": "application/json", "X-CSRFToken": pushButton.dataset.csrf }
        });
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        pushButton.hidden = true;
        statusEl.textContent = texts.pushed;
      }).catch(function () {
        pushButton.disabled = false;
        statusEl.textContent = texts.push_failed;
      });
    });
  }

  function keyBytes(base64url) {
    var raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }

  function beep() {
    if (!audio) return;
    var osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.2;
    osc.connect(gain); gain.connect(audio.destination);
    osc.start(); osc.stop(audio.currentTime + 0.35);
  }

  function showUnread() {
    var unread = Object.keys(cards).filter(function (code) { return cards[code].dataset.state !== "acknowledged"; }).length;
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    document.title = unread ? "(" + unread + ") " + baseTitle : baseTitle;
    if (navigator.setAppBadge) { (unread ? navigator.setAppBadge(unread) : navigator.clearAppBadge()).catch(function () {}); }
  }

  function looked() {
    if (document.visibilityState !== "visible") return;
    Object.keys(cards).forEach(function (code) {
      var card = cards[code];
      if (card.dataset.state === "received" || card.dataset.state === "sent") send({ type: "open", code: code });
    });
  }
  document.addEventListener("visibilitychange", looked);
  window.addEventListener("focus", looked);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function time(iso) { return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone: document.documentElement.dataset.timeZone || undefined }); }

  function card(b) {
    var node = el("article", "bulletin " + b.priority);
    node.id = "bulletin-" + b.code;
    node.dataset.code = b.code;
    node.dataset.expires = b.expires_at;
    var meta = el("p", "meta", (b.thread ? texts.update + " · " : "") + b.priority.toUpperCase() + " · " + time(b.created_at) +
                  (b.case ? " · " + texts["case"] + " " + b.case : "") + " · " + texts.from + " " + b.sender);
    node.appendChild(meta);
    node.appendChild(el("p", "description", b.description));
    if (b.media_url && b.media_kind === "video") {
      var video = el("video");
      video.controls = true;
      video.muted = true;  // the segment has no sound; muted lets phones start it without a tap
      video.setAttribute("playsinline", "");
      video.preload = "metadata";
      video.setAttribute("aria-label", texts.clip + ": " + b.description);
      video.src = b.media_url;
      node.appendChild(video);
    } else if (b.media_url) {
      var img = el("img", "still");
      img.alt = b.description;
      if (b.still_on_socket) {
        setTimeout(function () { if (!img.src) img.src = b.media_url; }, STILL_WAIT_MS);
      } else {
        img.src = b.media_url;
      }
      img.dataset.url = b.media_url;
      node.appendChild(img);
    }
    if (b.lat !== null) {
      var map = el("a", "map", texts.map + " " + b.lat.toFixed(5) + ", " + b.lng.toFixed(5));
      map.href = "geo:" + b.lat + "," + b.lng;
      node.appendChild(map);
    }
    var actions = el("p", "actions");
    var ack = el("button", "ack", texts.ack);
    ack.type = "button";
    ack.addEventListener("click", function () { send({ type: "ack", code: b.code }); ack.disabled = true; });
    actions.appendChild(ack);
    actions.appendChild(el("span", "state"));
    node.appendChild(actions);
    if (!b.thread) node.appendChild(el("div", "updates"));
    cards[b.code] = node;
    setState(b.code, b.state);
    return node;
  }

  function setState(code, state) {
    var node = cards[code];
    if (!node) return;
    node.dataset.state = state;
    var acked = state === "acknowledged";
    node.querySelector(".ack").disabled = acked;
    node.querySelector(".state").textContent = acked ? texts.acked : "";
  }

  function place(b, fresh) {
    if (cards[b.code]) return;
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var node = card(b);
    if (fresh) node.classList.add("new");
    var root = b.thread && cards[b.thread];
    if (root) {
      var updates = root.querySelector(".updates");
      updates.insertBefore(node, updates.firstChild);
      list.insertBefore(root, list.firstChild);  // a thread with news comes to the top
    } else {
      list.insertBefore(node, list.firstChild);
    }
  }

  function mediaDrop(node) {
    var media = node.querySelector(":scope > img.still, :scope > video");
    if (!media) return;
    if (media.src && media.src.indexOf("blob:") === 0) URL.revokeObjectURL(media.src);
    media.removeAttribute("src");
    media.remove();
  }

  // An expired bulletin's picture is destroyed on the server: an open page drops it too (the text stays, as there).
  function expire() {
    Object.keys(cards).forEach(function (code) {
      var node = cards[code];
      if (node.classList.contains("expired") || Date.parse(node.dataset.expires) > Date.now()) return;
      mediaDrop(node);
      node.classList.add("expired");
      node.querySelector(".meta").appendChild(document.createTextNode(" · " + texts.expired));
    });
  }
  setInterval(expire, EXPIRY_CHECK_MS);

  // Signed out, disabled or no longer on patrol: nothing of the bulletins stays on the screen.
  function forget() {
    Object.keys(cards).forEach(function (code) { mediaDrop(cards[code]); delete cards[code]; });
    list.textContent = "";
    showUnread();
  }

  function codeOf(bytes) {
    var hex = Array.prototype.map.call(bytes, function (n) { return (n < 16 ? "0" : "") + n.toString(16); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function stillArrived(buffer) {
    var node = cards[codeOf(new Uint8Array(buffer, 0, 16))];
    var img = node && node.querySelector("img.still");
    if (img && !img.src) img.src = URL.createObjectURL(new Blob([buffer.slice(16)], { type: "image/jpeg" }));
  }

  function stillByAddress(code) {
    var img = cards[code] && cards[code].querySelector("img.still");
    if (img && !img.src) img.src = img.dataset.url;
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + list.dataset.socket);
    socket = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = function () { retry = 1000; statusEl.textContent = texts.live; };
    ws.onmessage = function (event) {
      if (event.data instanceof ArrayBuffer) { stillArrived(event.data); return; }
      var message = JSON.parse(event.data);
      if (message.type === "snapshot") {
        // Oldest first, so the newest ends on top and updates find their first bulletin.
        message.bulletins.slice().reverse().forEach(function (b) { place(b, false); });
        expire();
        showUnread(); looked();
      } else if (message.type === "bulletin") {
        place(message.bulletin, true);
        showUnread(); beep();
        if (navigator.vibrate) navigator.vibrate(200);
        looked();
      } else if (message.type === "still_by_page") {
        stillByAddress(message.code);
      } else if (message.type === "receipt") {
        setState(message.code, message.state);
        showUnread();
      } else if (message.type === "interrupted") {
        statusEl.textContent = message.reason;
      }
    };
    ws.onclose = function (event) {
      if (socket === ws) socket = null;
      if (event.code === 4401 || event.code === 4403) { forget(); statusEl.textContent = texts.refused; return; }
      statusEl.textContent = texts.lost;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
