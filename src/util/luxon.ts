/**
 * luxon, with its default locale set before any date is made. miniflow prints and parses ISO dates
 * and formats macros in English (as Python's C locale); left unset, luxon asks the system for its
 * locale on the first date of every command, which starts up ICU: ~30 ms of a `dags list`.
 * (src/templating imports luxon itself: its worker's imports stay inside the folder, and its
 * macros format in en-US explicitly.)
 */
import { Settings } from 'luxon';

Settings.defaultLocale = 'en-US';

export { DateTime, Duration, FixedOffsetZone, IANAZone } from 'luxon';
