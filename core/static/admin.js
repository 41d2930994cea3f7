/* Flask-Admin's templates put behaviour in onclick=… attributes, which the Content-Security-Policy
   refuses (SECURITY.md AC10, issue 11 point 10). The kernel's copies of those templates
   (core/templates/admin/actions.html, model/row_actions.html, model/layout.html,
   model/inline_list_base.html) carry data- attributes instead; this one listener does what the
   handlers did. A javascript:void(0) link does nothing by itself (its own script handles the click). */
document.addEventListener('click', function (e) {
  var el = e.target && e.target.closest &&
    e.target.closest('[data-tb-confirm], [data-tb-action], [data-tb-inline-add], a[href^="javascript:"]');
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
});
