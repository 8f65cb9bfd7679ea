/** The Modu mark: a speech bubble on the yellow accent. */
export function Logo({ size = 72 }: { size?: number }) {
  return (
    <svg class="logo" width={size} height={size} viewBox="0 0 64 64" aria-hidden="true">
      <rect width="64" height="64" rx="16" fill="#FEE500" />
      <path d="M32 15c-10.5 0-19 6.6-19 14.8 0 5.3 3.6 10 9 12.6l-2 7.3 8.2-5.4c1.2.2 2.5.3 3.8.3 10.5 0 19-6.6 19-14.8S42.5 15 32 15z" fill="#3A1D1D" />
      <circle cx="24" cy="30" r="2.6" fill="#FEE500" />
      <circle cx="32" cy="30" r="2.6" fill="#FEE500" />
      <circle cx="40" cy="30" r="2.6" fill="#FEE500" />
    </svg>
  );
}
