// Svelte 5 compiles `<script lang="ts">` itself (type syntax only), so no preprocessor is needed.
export default {};
