/* Flask-Admin's templates put behaviour in onclick=… attributes and javascript:void(0) links, which
   the Content-Security-Policy refuses (SECURITY.md AC10, issue 11 point 10). The kernel's copies of
   those templates (core/templates/admin/actions.html, model/row_actions.html, model/layout.html,
   model/inline_list_base.html) carry data- attributes instead; these listeners do what the handlers
   did. */
(function () {
  // a javascript:void(0) link (a dropdown toggle, a filter, an action) does nothing by itself: its
  // own script handles the click. Cancelled while capturing, before any other listener runs, so the
  // browser never tries (and the policy never has to refuse) to run the URL.
  document.addEventListener('click', function (e) {
    var a = e.target && e.target.closest && e.target.closest('a[href^="javascript:"]');
    if (a) { e.preventDefault(); }
  }, true);

  document.addEventListener('click', function (e) {
    var el = e.target && e.target.closest &&
      e.target.closest('[data-tb-confirm], [data-tb-action], [data-tb-inline-add]');
    if (!el) { return; }
    if (el.hasAttribute('data-tb-confirm')) {          // the row's delete button
      if (!window.confirm(el.getAttribute('data-tb-confirm'))) { e.preventDefault(); }
      return;
    }
    e.preventDefault();
    if (el.hasAttribute('data-tb-action')) {           // "With selected" ▸ an action
      if (window.modelActions) { window.modelActions.execute(el.getAttribute('data-tb-action')); }
    } else if (el.hasAttribute('data-tb-inline-add')) { // an inline model's "Add"
      if (window.faForm) { window.faForm.addInlineField(el, el.getAttribute('data-tb-inline-add')); }
    }
  }, true);  // capturing too: Flask-Admin's menu scripts stop the click from bubbling to the document

  // a column's help icon (Flask-Admin's <a class="fa fa-question-circle" data-role="tooltip">) is named only
  // by its title, which Bootstrap's tooltip moves to data-original-title: give it an aria-label so a screen
  // reader has a name for the link (WCAG 2.4.4 / 4.1.2, axe link-name; issue 18 point 10)
  function nameTooltips() {
    var links = document.querySelectorAll('a[data-role="tooltip"]');
    Array.prototype.forEach.call(links, function (a) {
      var name = a.getAttribute('title') || a.getAttribute('data-original-title');
      if (name && !a.textContent.trim() && !a.hasAttribute('aria-label')) { a.setAttribute('aria-label', name); }
    });
  }
  // on a phone a wide table scrolls in its own box (admin.css): one that holds no link or field is made
  // focusable so that the keyboard can scroll it too (WCAG 2.1.1, axe scrollable-region-focusable)
  function focusableScrollers() {
    var tables = document.querySelectorAll('main .table');
    Array.prototype.forEach.call(tables, function (t) {
      var scrolls = t.scrollWidth > t.clientWidth + 1;
      var inner = t.querySelector('a[href], button, input, select, textarea, [tabindex]');
      if (scrolls && !inner && !t.hasAttribute('tabindex')) { t.setAttribute('tabindex', '0'); }
    });
  }
  function ready() { nameTooltips(); focusableScrollers(); }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else { ready(); }
  window.addEventListener('resize', focusableScrollers);
})();
