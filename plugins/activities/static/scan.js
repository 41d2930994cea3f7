/* The organiser's scan page (activities/scan.html): a handheld scanner types the volunteer's code into
   the field and presses Enter (plain form submission, nothing here needed); this script adds the
   camera: getUserMedia, frames drawn on a canvas, decoded by the vendored jsQR, then the form is sent.
   Without a camera (or without permission) it says so and the field keeps working. */
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  var field = document.getElementById("scan-code");
  var button = document.getElementById("scan-camera");
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  var submit = document.getElementById("scan-submit");
  if (!form || !field) { return; }
  var KEY = "activities.scan.camera", LAST = "activities.scan.last";
  var stream = null, timer = null;
  var canvas = document.createElement("canvas");
  var ctx = canvas.getContext("2d", { willReadFrequently: true });

  // the submit button says what Enter will do
  Array.prototype.forEach.call(form.querySelectorAll("input[name=mode]"), function (radio) {
    radio.addEventListener("change", function () {
      var label = document.querySelector("label[for=" + radio.id + "]") || radio.parentNode;
      submit.textContent = label.textContent.trim();
      field.focus();
    });
  });

  function say(text) { status.textContent = text || ""; }
  function store(key, value) { try { window.sessionStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function stored(key) { try { return window.sessionStorage.getItem(key); } catch (e) { return null; } }
  function remember(on) { store(KEY, on ? "on" : "off"); }
  function remembered() { return stored(KEY) === "on"; }
  // the code just sent is still in front of the camera when the page comes back: not sent twice
  var last = stored(LAST);

  var usable = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.jsQR && ctx);
  if (!usable) { say(form.dataset.noCamera); return; }
  button.hidden = false;

  function stop() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    video.hidden = true;
  }

  function tick() {
    timer = null;
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      var scale = Math.min(1, 640 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
      if (code && code.data && code.data === last) {
        say(form.dataset.same);
      } else if (code && code.data) {
        say(form.dataset.found);
        store(LAST, code.data);
        field.value = code.data;
        stop();
        form.submit();   // the camera stays on for the next volunteer (remembered for this tab)
        return;
      }
    }
    timer = setTimeout(tick, 150);
  }

  function start() {
    say(form.dataset.looking);
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        remember(true);
        return video.play();
      })
      .then(function () { tick(); })
      .catch(function () {
        stop();
        remember(false);
        say(form.dataset.noCamera);
        field.focus();
      });
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); remember(false); say(""); field.focus(); } else { start(); }
  });
  if (remembered()) { start(); }
})();
