// Draws privacy masks over the camera's picture. Shapes are kept in fractions of the frame (0..1) in the
// form's JSON field, so the server can apply them to frames of any size. Without JavaScript the field is
// edited by hand.
(function () {
  "use strict";
  var svg = document.getElementById("mask-canvas"), field = document.getElementById("id_masks");
  if (!svg || !field) return;
  var NS = "http://www.w3.org/2000/svg", mode = "rect", drag = null, corners = [];
  var shapes = [];
  try { shapes = JSON.parse(field.value || "[]"); } catch (e) { shapes = []; }
  field.closest(".masks-field").hidden = true;

  // A still that arrives after "Take a new picture" is fetched until it is there (up to a minute: the
  // connector may be starting).
  var editor = document.getElementById("mask-editor");
  if (editor.dataset.hasStill === "0" && /waiting=1/.test(location.search)) {
    var tries = 0, timer = setInterval(function () {
      fetch(editor.dataset.still, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (r.ok || ++tries > 60) { clearInterval(timer); if (r.ok) location.replace(location.pathname); }
      });
    }, 1000);
  }

  function point(event) {
    var box = svg.getBoundingClientRect();
    var x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    var y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    return [Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000];
  }
  function polygon(points, cls) {
    var el = document.createElementNS(NS, "polygon");
    el.setAttribute("points", points.map(function (p) { return p[0] + "," + p[1]; }).join(" "));
    el.setAttribute("class", cls);
    return el;
  }
  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    shapes.forEach(function (s) { svg.appendChild(polygon(s, "mask")); });
    if (drag) svg.appendChild(polygon(rect(drag.start, drag.end), "mask drawing"));
    if (corners.length) svg.appendChild(polygon(corners, "mask drawing"));
    field.value = JSON.stringify(shapes);
  }
  function rect(a, b) { return [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]]; }
  function setMode(next) {
    mode = next; corners = [];
    document.getElementById("mode-rect").setAttribute("aria-pressed", String(mode === "rect"));
    document.getElementById("mode-poly").setAttribute("aria-pressed", String(mode === "poly"));
    document.getElementById("finish-poly").hidden = mode !== "poly";
    draw();
  }

  svg.addEventListener("pointerdown", function (e) {
    e.preventDefault();
    if (mode === "poly") { corners.push(point(e)); draw(); return; }
    drag = { start: point(e), end: point(e) };
    svg.setPointerCapture(e.pointerId);
  });
  svg.addEventListener("pointermove", function (e) { if (drag) { drag.end = point(e); draw(); } });
  svg.addEventListener("pointerup", function () {
    if (!drag) return;
    var r = rect(drag.start, drag.end); drag = null;
    if (Math.abs(r[2][0] - r[0][0]) > 0.005 && Math.abs(r[2][1] - r[0][1]) > 0.005) shapes.push(r);
    draw();
  });
  document.getElementById("mode-rect").addEventListener("click", function () { setMode("rect"); });
  document.getElementById("mode-poly").addEventListener("click", function () { setMode("poly"); });
  document.getElementById("finish-poly").addEventListener("click", function () {
    if (corners.length >= 3) shapes.push(corners);
    corners = []; draw();
  });
  document.getElementById("undo-mask").addEventListener("click", function () { shapes.pop(); draw(); });
  document.getElementById("clear-masks").addEventListener("click", function () { shapes = []; draw(); });
  draw();
})();
