// minigan's few additions to the book's pages (loaded before everything else).

// The ipywidgets embedder (vendor/html-manager/embed-amd.js) is an AMD module
// named "@jupyter-widgets/html-manager/dist/embed-amd", and it loads its icon
// fonts from the folder that name resolves to. RequireJS resolves names next to
// the page by default, so every chapter with a progress bar asked for fonts in
// book/@jupyter-widgets/..., which does not exist. A global `require` object
// defined before require.js loads is its configuration: map the name to the
// vendored folder.
var require = {
  paths: {
    "@jupyter-widgets/html-manager/dist": new URL("vendor/html-manager", document.currentScript.src).href,
  },
};

// The widget embedder typesets math in widget labels with MathJax 2's API,
// MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads
// MathJax 3, which has no Hub, so every labelled widget threw an error. Give
// MathJax 3 that one call. Deferred scripts (MathJax) have run by
// DOMContentLoaded, and the embedder draws widgets later, on "load".
document.addEventListener("DOMContentLoaded", () => {
  const mj = window.MathJax;
  if (!mj || !mj.typesetPromise || mj.Hub) return;
  mj.Hub = {
    Queue: (...commands) => {
      for (const command of commands) {
        const element = Array.isArray(command) ? command[2] : undefined;
        mj.startup.promise.then(() => mj.typesetPromise(element ? [element] : undefined));
      }
    },
  };
});
