/* Form builder: copy an embed snippet to the clipboard. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll(".copy-snippet"), function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-target"));
      text.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();
