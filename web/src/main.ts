import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './styles.css';

// Public pages (storefront, tracking) never ask who is signed in: App.vue loads the session
// only for staff screens, so a customer's page makes no session traffic.
createApp(App).use(createPinia()).mount('#app');
