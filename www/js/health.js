// health.js - one vocabulary for a proxy's health on every page: healthy, failing, unchecked.

import { badge } from './dom.js';

/* The words, as the dashboard counts them (isHealthy true, false, null). */
export const HEALTH = { healthy: 'healthy', failing: 'failing', unchecked: 'unchecked' };

/* proxyHealth names what the last check said: isHealthy true is
 * "healthy", false "failing", null (never checked) "unchecked". Whether
 * the proxy is enabled is told apart (proxyBadges). */
export function proxyHealth(r) {
	if (r.isHealthy === true) return HEALTH.healthy;
	if (r.isHealthy === false) return HEALTH.failing;
	return HEALTH.unchecked;
}

/* proxyBadges: the health badge, and "disabled" when it is off. */
export function proxyBadges(r) {
	const health = proxyHealth(r);
	const b = badge(health);
	b.dataset.health = health;
	b.title = health === HEALTH.unchecked ? 'Not checked yet' : `Last check: ${health}`;
	return [b, r.isEnabled === false ? badge('disabled') : null];
}
