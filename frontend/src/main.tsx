import { render } from 'preact';

function App() {
  return <div>kubelantern</div>;
}

render(<App />, document.getElementById('app')!);
