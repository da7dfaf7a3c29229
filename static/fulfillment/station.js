// Progressive help for the packing station and print pages; everything works without it.
(function () {
  "use strict";
  var body = document.body;
  if (body.dataset.autoprint === "1") {
    window.addEventListener("load", function () { window.print(); });
  }
  var refused = document.querySelector(".scan-refused, .msg-error");
  if (refused && window.AudioContext) {
    try {
      var ctx = new AudioContext();
      var osc = ctx.createOscillator();
      osc.type = "square";
      osc.frequency.value = 220;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    } catch (e) { /* no sound: the red banner still says it */ }
  }
  var input = document.querySelector("input[autofocus]");
  if (input) {
    // Keep the scanner's keystrokes going to the field even after a stray click.
    document.addEventListener("click", function (ev) {
      if (ev.target.tagName !== "A" && ev.target.tagName !== "BUTTON" && ev.target.tagName !== "INPUT") input.focus();
    });
  }
})();
