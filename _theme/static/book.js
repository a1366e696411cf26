/* The site's own script (loaded on every page by _theme/book_site.py).
 *
 * sphinx-togglebutton makes the whole title of a dropdown admonition (a solution) the toggle, and its
 * click handler fails on a click on a link inside that title ("Solution to <a>Exercise 1</a>"):
 * "button is not defined", and the next such click toggles whichever solution was toggled last.
 * A click on such a link stops at the link, which follows its target as any link does. */
(function () {
  function stopAtLinks() {
    document.querySelectorAll(".admonition.dropdown > .admonition-title a[href]").forEach(function (a) {
      a.addEventListener("click", function (event) { event.stopPropagation(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", stopAtLinks);
  } else {
    stopAtLinks();
  }
})();
