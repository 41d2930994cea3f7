/* Behaviour of the site's layout that would otherwise sit in inline event handlers, which the
   Content-Security-Policy refuses (script-src without 'unsafe-inline': SECURITY.md AC10, issue 11
   point 10). A <select data-autosubmit> (the language menu, a year picker) submits its form. */
document.documentElement.classList.add('js');  /* without scripts the collapsed menu stays open (site.css) */
document.addEventListener('change', function (e) {
  var t = e.target;
  if (t && t.form && t.matches && t.matches('select[data-autosubmit]')) {
    t.form.submit();
  }
});
/* The header's 菜单 button (issue 18 point 3): opens and closes the collapsed navigation on a phone. */
document.addEventListener('click', function (e) {
  var b = e.target && e.target.closest ? e.target.closest('[data-toggle-menu]') : null;
  if (!b) { return; }
  var menu = document.getElementById(b.getAttribute('data-toggle-menu'));
  if (!menu) { return; }
  var open = menu.classList.toggle('show');
  b.setAttribute('aria-expanded', open ? 'true' : 'false');
});
/* Tables of the people's side read as cards on a phone (site.css): each cell gets its column's name. */
document.addEventListener('DOMContentLoaded', function () {
  var tables = document.querySelectorAll('main.tb-main table');
  Array.prototype.forEach.call(tables, function (table) {
    var head = table.tHead && table.tHead.rows.length ? table.tHead.rows[table.tHead.rows.length - 1] : null;
    var first = table.rows.length ? table.rows[0] : null;  /* or a first row of <th> only, without <thead> */
    if (!head && first && first.cells.length > 1 &&
        Array.prototype.every.call(first.cells, function (c) { return c.tagName === 'TH'; })) {
      head = first;
      first.classList.add('tb-head-row');
    }
    if (!head || table.classList.contains('tb-keep-table')) { return; }
    var labels = Array.prototype.map.call(head.cells, function (c) { return c.textContent.trim(); });
    table.classList.add('tb-cards');
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        if (row === head) { return; }
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (cell.colSpan >= labels.length && labels.length > 1) { return; }  /* a row spanning all columns ("none yet") */
          if (labels[col] && !cell.hasAttribute('data-label')) { cell.setAttribute('data-label', labels[col]); }
          col += cell.colSpan || 1;
        });
      });
    });
  });
});
/* A page that renews itself (the volunteer's check-in code, whose token expires): reloads after
   data-reload-after seconds, as its <meta http-equiv=refresh> did, without a refresh that axe-core and
   screen readers flag as an unannounced change (issue 18 point 10). */
document.addEventListener('DOMContentLoaded', function () {
  var el = document.querySelector('[data-reload-after]');
  var s = el ? parseInt(el.getAttribute('data-reload-after'), 10) : NaN;
  if (s > 0) { setTimeout(function () { window.location.reload(); }, s * 1000); }
});
