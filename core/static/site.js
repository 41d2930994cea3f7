/* Behaviour of the site's layout that would otherwise sit in inline event handlers, which the
   Content-Security-Policy refuses (script-src without 'unsafe-inline': SECURITY.md AC10, issue 11
   point 10). A <select data-autosubmit> (the language menu, a year picker) submits its form. */
document.addEventListener('change', function (e) {
  var t = e.target;
  if (t && t.form && t.matches && t.matches('select[data-autosubmit]')) {
    t.form.submit();
  }
});
