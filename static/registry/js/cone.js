// A camera's view cone as a polygon of [lat, lng] points: direction and field of view in degrees, range in metres.
(function () {
  "use strict";
  var EARTH = 6371000;
  function offset(lat, lng, bearingDeg, metres) {
    var b = bearingDeg * Math.PI / 180, d = metres / EARTH;
    var p1 = lat * Math.PI / 180, l1 = lng * Math.PI / 180;
    var p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
    var l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
    return [p2 * 180 / Math.PI, l2 * 180 / Math.PI];
  }
  window.connectCone = function (lat, lng, dir, fov, range) {
    var points = fov >= 360 ? [] : [[lat, lng]];
    var start = dir - fov / 2, steps = Math.max(4, Math.round(fov / 10));
    for (var i = 0; i <= steps; i++) points.push(offset(lat, lng, start + fov * i / steps, range));
    return points;
  };
})();
