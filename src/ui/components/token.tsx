import { useState } from 'preact/hooks';
import { TOKEN_KEY, token } from '../api.js';

/** The API token for writes, kept in sessionStorage (gone when the tab closes, never sent to reads' URLs). */
export function TokenField() {
  const [value, setValue] = useState(token());
  const save = (v: string) => {
    setValue(v);
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    else sessionStorage.removeItem(TOKEN_KEY);
  };
  return (
    <label class="token">
      API token
      <input
        type="password"
        autocomplete="off"
        placeholder="[api] auth_token"
        value={value}
        onInput={(e) => save(e.currentTarget.value)}
      />
    </label>
  );
}
