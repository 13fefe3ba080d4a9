// The patrol page's service worker: makes the page installable and, offline, answers with the last page it
// loaded. Bulletins and stills are never cached (they are for the signed-in officer only and expire).
const CACHE = "patrol-shell-v1";
const SHELL = ["{% url 'bulletins:patrol' %}"];

self.addEventListener("install", (event) => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !SHELL.includes(url.pathname)) return;
  event.respondWith(fetch(event.request).catch(() => new Response(
    "<!doctype html><meta name=viewport content='width=device-width'><p>Offline: bulletins arrive again when the " +
    "phone is back online.</p>", { headers: { "Content-Type": "text/html" } })));
});
// A push carries the priority and the page link only (push services are third parties): the page shows the rest.
self.addEventListener("push", (event) => {
  const data = event.data ? event.data.json() : {};
  event.waitUntil(self.registration.showNotification(data.title || "Bulletin", { data: { url: data.url || SHELL[0] } }));
});
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || SHELL[0];
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((open) => {
    const page = open.find((c) => new URL(c.url).pathname === url);
    return page ? page.focus() : self.clients.openWindow(url);
  }));
});
