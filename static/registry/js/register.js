// Registration and camera pages: a picker map per camera, and "add another camera" for the formset.
(function () {
  "use strict";
  document.querySelectorAll(".camera-map").forEach(connectPicker);
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  var add = document.getElementById("add-camera"), template = document.getElementById("camera-template");
  if (!add || !template) return;
  var total = document.getElementById("id_cameras-TOTAL_FORMS");
  var max = parseInt(document.getElementById("id_cameras-MAX_NUM_FORMS").value, 10);
  var container = document.getElementById("camera-forms");
  add.hidden = false;

  // Camera numbers follow the order on the page; only the last added camera offers "remove",
  // so the formset's indexes stay contiguous.
  function renumber() {
    var fieldsets = container.querySelectorAll("fieldset.camera");
    fieldsets.forEach(function (fieldset, i) {
      var number = fieldset.querySelector(".number");
      if (number) number.textContent = String(i + 1);
      var remove = fieldset.querySelector(".remove-camera");
      if (remove) remove.hidden = i !== fieldsets.length - 1;
    });
    add.hidden = parseInt(total.value, 10) >= max;
  }

  add.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var wrapper = document.createElement("div");
    wrapper.innerHTML = html.trim();
    var fieldset = wrapper.firstElementChild;
    container.appendChild(fieldset);
    total.value = String(index + 1);
    fieldset.querySelector(".remove-camera").addEventListener("click", function () {
      fieldset.remove();
      total.value = String(parseInt(total.value, 10) - 1);
      renumber();
      // The button that had focus is gone: keep the keyboard user where the camera was, on "Add another camera"
      // (shown again now there is room), else on the camera before it.
      if (!add.hidden) add.focus();
      else container.querySelector("fieldset.camera:last-of-type input[type=text]").focus();
    });
    connectPicker(fieldset.querySelector(".camera-map"));
    renumber();
    fieldset.querySelector("input[type=text]").focus();
  });
})();
